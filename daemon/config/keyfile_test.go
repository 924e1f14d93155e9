package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckKeyFile(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "f.toml")
	os.WriteFile(conf, []byte("cluster = \"c\"\n\nkey_file = \"k\"\n"), 0o644)
	good := "1 00112233445566778899aabbccddeeff\n"
	for _, tt := range []struct {
		name, text string
		mode       os.FileMode
		want       string // "" = no problem
	}{
		{"good", good, 0o600, ""},
		{"missing", "", 0, "does not exist"},
		{"world readable", good, 0o644, "chmod 600"},
		{"too short", "1 abcd\n", 0o600, "secret is 2 bytes"},
		{"garbage", "garbage\n", 0o600, "want \"<id> <hex secret> [send]\""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			key := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-"))
			if tt.mode != 0 {
				os.WriteFile(key, []byte(tt.text), tt.mode)
				os.Chmod(key, tt.mode)
			}
			err := CheckKeyFile(conf, &Config{KeyFile: key})
			if tt.want == "" {
				if err != nil {
					t.Fatalf("CheckKeyFile: %v", err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), conf+":3: key_file: ") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("CheckKeyFile = %v, want %s:3: key_file: ...%s...", err, conf, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("not one line: %q", err)
			}
		})
	}
}
