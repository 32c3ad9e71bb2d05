package policy

import (
	"fmt"
	"os"

	"gopkg.in/yaml.v3"
)

// loadFile reads an operator's policy file: a YAML or JSON mapping of rule
// name to check string (JSON is read as YAML, which it is a subset of).
// An empty file has no rules. Values must be strings: oslo.policy's old
// list-of-lists form and a null value (which oslo.policy would read as
// "always allow") are refused rather than guessed at.
func loadFile(path string) ([]ruleSource, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read policy file: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("policy file %s: %w", path, err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, nil
	}
	top := doc.Content[0]
	if top.Kind == yaml.ScalarNode && top.Tag == "!!null" {
		return nil, nil
	}
	if top.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: policy file must be a mapping of rule name to check string", path, top.Line)
	}
	seen := make(map[string]int, len(top.Content)/2)
	out := make([]ruleSource, 0, len(top.Content)/2)
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Value == "" {
			return nil, fmt.Errorf("%s:%d: rule name must be a non-empty string", path, k.Line)
		}
		name := k.Value
		if first, dup := seen[name]; dup {
			return nil, fmt.Errorf("%s:%d: rule %q is already defined on line %d", path, k.Line, name, first)
		}
		seen[name] = k.Line
		if v.Kind != yaml.ScalarNode || v.Tag != "!!str" {
			return nil, fmt.Errorf("%s:%d: rule %q: the value must be a check string", path, v.Line, name)
		}
		out = append(out, ruleSource{name: name, check: v.Value, file: path, line: v.Line})
	}
	return out, nil
}
