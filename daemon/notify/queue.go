package notify

import "sync"

// queue is a bounded FIFO whose wake channel has a value whenever items
// may be waiting. push never blocks.
type queue[T any] struct {
	mu      sync.Mutex
	items   []T
	max     int
	dropped uint64
	wake    chan struct{}
}

func newQueue[T any](max int) *queue[T] {
	return &queue[T]{max: max, wake: make(chan struct{}, 1)}
}

// push appends v, or drops it (and counts it) when the queue is full.
func (q *queue[T]) push(v T) bool {
	q.mu.Lock()
	ok := len(q.items) < q.max
	if ok {
		q.items = append(q.items, v)
	} else {
		q.dropped++
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return ok
}

func (q *queue[T]) pop() (T, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var zero T
	if len(q.items) == 0 {
		return zero, false
	}
	v := q.items[0]
	q.items[0] = zero
	q.items = q.items[1:]
	return v, true
}

func (q *queue[T]) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items)
}

func (q *queue[T]) droppedCount() uint64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.dropped
}
