package compute

import (
	"encoding/json"
	"strings"
	"testing"

	"kumo/internal/platform/httpapi"
)

func decode(t *testing.T, s string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// Messages as Python's jsonschema words them, through Nova's
// ValidationError formatting.
func TestSchemaMessages(t *testing.T) {
	obj := &Schema{Type: Types("object"), Required: []string{"a"}, NoAdditional: true, Properties: []Prop{
		{"a", &Schema{Type: Types("object"), NoAdditional: true, Properties: []Prop{
			{"s", &Schema{Type: Types("string"), MinLength: 2, MaxLength: 4}},
			{"n", &Schema{Type: Types("number"), Minimum: Num(0.5), Maximum: Num(10)}},
			{"l", &Schema{Type: Types("array"), MaxItems: 1, Items: &Schema{Type: Types("integer")}}},
			{"u", &Schema{Type: Types("string"), Format: "uuid"}},
			{"nm", &Schema{Type: Types("string"), Format: "name"}},
		}}},
	}}
	for _, c := range []struct{ in, msg string }{
		{`[]`, "[] is not of type 'object'"},
		{`null`, "None is not of type 'object'"},
		{`{}`, "'a' is a required property"},
		{`{"a": {}, "b": 1, "c": 2}`, "Additional properties are not allowed ('b', 'c' were unexpected)"},
		{`{"a": {"s": "x"}}`, "Invalid input for field/attribute s. Value: x. 'x' is too short"},
		{`{"a": {"s": "it's long"}}`, `Invalid input for field/attribute s. Value: it's long. "it's long" is too long`},
		{`{"a": {"s": 5}}`, "Invalid input for field/attribute s. Value: 5. 5 is not of type 'string'"},
		{`{"a": {"n": 0.25}}`, "Invalid input for field/attribute n. Value: 0.25. 0.25 is less than the minimum of 0.5"},
		{`{"a": {"n": 11}}`, "Invalid input for field/attribute n. Value: 11. 11 is greater than the maximum of 10"},
		{`{"a": {"n": true}}`, "Invalid input for field/attribute n. Value: True. True is not of type 'number'"},
		{`{"a": {"l": [1, 2]}}`, "Invalid input for field/attribute l. Value: [1, 2]. [1, 2] is too long"},
		{`{"a": {"l": ["x"]}}`, "Invalid input for field/attribute l. Value: x. 'x' is not of type 'integer'"},
		{`{"a": {"u": "nope"}}`, "Invalid input for field/attribute u. Value: nope. 'nope' is not a 'uuid'"},
		{`{"a": {"nm": "tab\tin"}}`, "An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace."},
		{`{"a": {"z": {"k": [null, false]}}}`, "Invalid input for field/attribute a. Value: {'z': {'k': [None, False]}}. Additional properties are not allowed ('z' was unexpected)"},
	} {
		err := obj.Validate(decode(t, c.in))
		e, ok := httpapi.AsError(err)
		if !ok || e.Status != 400 || e.Message != c.msg {
			t.Errorf("%s:\n got %v\nwant %s", c.in, err, c.msg)
		}
	}
	for _, ok := range []string{`{"a": {}}`, `{"a": {"s": "abc", "n": 10, "l": [3], "u": "3F2504E0-4F89-41D3-9A0C-0305E82C3301", "nm": "a b"}}`} {
		if err := obj.Validate(decode(t, ok)); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}

func TestValidName(t *testing.T) {
	for s, want := range map[string]bool{"ok": true, "a b": true, "é漢字": true, " lead": false, "trail ": false,
		"nul\x00": false, "line\u2028sep": false, "\u00a0nbsp": false, "": true} {
		if got := validName(s, false); got != want {
			t.Errorf("validName(%q) = %v", s, got)
		}
	}
	if validName("   ", true) || !validName(" x ", true) {
		t.Error("name_with_spaces")
	}
}

func TestPyRepr(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string
	}{
		{`"a'b"`, `"a'b"`}, {`"a'b\""`, `'a\'b"'`}, {`1.0`, `1.0`}, {`1e40`, `1e+40`}, {`3.40282e+38`, `3.40282e+38`},
		{`{"b": [1, "x"], "a": null}`, `{'a': None, 'b': [1, 'x']}`}, {`"\n"`, `'\n'`},
	} {
		if got := pyRepr(decode(t, c.in)); got != c.want {
			t.Errorf("pyRepr(%s) = %s, want %s", c.in, got, c.want)
		}
	}
}
