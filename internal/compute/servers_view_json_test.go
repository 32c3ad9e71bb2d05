package compute

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
)

// TestAppendStrMatchesMarshal checks the list encoder's string escaping
// against encoding/json's over every escape class and random bytes,
// valid UTF-8 or not.
func TestAppendStrMatchesMarshal(t *testing.T) {
	cases := []string{"", "plain", `q"b\s`, "<a>&", "\b\f\n\r\t\x00\x01\x1f\x7f", "é ü 日本", "\u2028\u2029",
		"\xff", "a\xc3", "\xe2\x80", "\xed\xa0\x80", "\U0001F600x", "\xf4\x90\x80\x80"}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("a<>&\"\\\x00\x1f\x7f\x80\xc3\xa9\xe2\x80\xa8\xa9\xf0\x9f\x98\x80\xff ")
	for range 20000 {
		n := rng.IntN(12)
		s := make([]byte, n)
		for i := range s {
			if rng.IntN(3) == 0 {
				s[i] = byte(rng.IntN(256))
			} else {
				s[i] = alphabet[rng.IntN(len(alphabet))]
			}
		}
		cases = append(cases, string(s))
	}
	for _, s := range cases {
		want, _ := json.Marshal(s)
		if got := appendStr([]byte("x"), s); string(got) != "x"+string(want) {
			t.Fatalf("%q: got %s, want %s", s, got[1:], want)
		}
	}
}
