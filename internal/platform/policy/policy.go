// Package policy is kumo's RBAC engine: the oslo.policy rule language
// ("role:admin or (role:reader and system_scope:all)"), default rules that
// each service declares in code, and an optional operator file that
// overrides them, as OpenStack services do with policy.yaml.
//
// Every check string is parsed once, when the Enforcer is built, so that
// Enforce on the request path only walks a small tree and does not
// allocate for the common checks.
package policy

import (
	"fmt"
	"log/slog"
	"sort"
	"strings"
)

// Credentials describe the caller, with the keys oslo.context and keystone
// put in the credentials dict: "user_id", "user_domain_id", "project_id",
// "project_domain_id", "domain_id", "system_scope" ("all" or unset),
// "roles" ([]string), "is_admin_project" (bool), "trust_id",
// "application_credential_id", and keystone's rendered token under "token"
// (for "token.project.domain.id"). Nested maps and flat dotted keys are both
// understood. Leave an unset ID out, or nil: nil compares equal to the
// target value None, exactly as in oslo.policy, and "" would compare equal
// to an empty string.
type Credentials map[string]any

// Rule is a default rule, declared by a service in code.
type Rule struct {
	Name        string
	Check       string
	Description string
}

// Enforcer decides whether credentials may perform an action on a target.
// It is immutable once built and safe for concurrent use.
type Enforcer struct {
	index map[string]int
	roots []*node
	srcs  []ruleSource
}

// ruleSource records where a rule's check string came from, for errors.
type ruleSource struct {
	name  string
	check string
	file  string // "" for a default rule
	line  int
}

// New builds an Enforcer from the default rules and, when overrideFile is
// not "", a YAML or JSON file mapping rule names to check strings. A rule in
// the file replaces the default of the same name; a new name is added and
// can be referenced with rule:NAME. Errors name the file, line and rule.
// A rule that references itself, directly or through other rules, is an
// error; a reference to a rule that does not exist evaluates false, as in
// oslo.policy.
func New(defaults []Rule, overrideFile string) (*Enforcer, error) {
	srcs := make([]ruleSource, 0, len(defaults))
	index := make(map[string]int, len(defaults))
	for _, r := range defaults {
		if r.Name == "" {
			return nil, fmt.Errorf("default policy rule with an empty name (check %q)", r.Check)
		}
		if _, dup := index[r.Name]; dup {
			return nil, fmt.Errorf("default policy rule %q is declared twice", r.Name)
		}
		index[r.Name] = len(srcs)
		srcs = append(srcs, ruleSource{name: r.Name, check: r.Check})
	}
	if overrideFile != "" {
		overrides, err := loadFile(overrideFile)
		if err != nil {
			return nil, err
		}
		for _, o := range overrides {
			if i, ok := index[o.name]; ok {
				srcs[i] = o
				continue
			}
			index[o.name] = len(srcs)
			srcs = append(srcs, o)
		}
	}

	e := &Enforcer{index: index, roots: make([]*node, len(srcs)), srcs: srcs}
	for i, s := range srcs {
		root, err := parse(s.check)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.where(), err)
		}
		e.roots[i] = root
	}
	for _, root := range e.roots {
		e.resolve(root)
	}
	if err := e.checkCycles(); err != nil {
		return nil, err
	}
	return e, nil
}

func (s ruleSource) where() string {
	if s.file == "" {
		return fmt.Sprintf("default policy rule %q", s.name)
	}
	return fmt.Sprintf("%s:%d: rule %q", s.file, s.line, s.name)
}

// resolve points every rule:NAME node at its rule's slot.
func (e *Enforcer) resolve(n *node) {
	if n.op == opRule {
		n.idx = -1
		if i, ok := e.index[n.name]; ok {
			n.idx = i
		}
	}
	for _, k := range n.kids {
		e.resolve(k)
	}
}

// checkCycles refuses rules that reach themselves through rule:NAME, which
// oslo.policy would only discover as a recursion error at request time.
func (e *Enforcer) checkCycles() error {
	const (
		unseen = iota
		active
		done
	)
	state := make([]uint8, len(e.roots))
	var stack []int
	var visit func(i int) error
	visit = func(i int) error {
		state[i] = active
		stack = append(stack, i)
		var err error
		walkRefs(e.roots[i], func(j int) {
			if err != nil {
				return
			}
			switch state[j] {
			case active:
				err = e.cycleError(stack, j)
			case unseen:
				err = visit(j)
			}
		})
		if err != nil {
			return err
		}
		stack = stack[:len(stack)-1]
		state[i] = done
		return nil
	}
	for i := range e.roots {
		if state[i] == unseen {
			if err := visit(i); err != nil {
				return err
			}
		}
	}
	return nil
}

func walkRefs(n *node, f func(int)) {
	if n.op == opRule && n.idx >= 0 {
		f(n.idx)
	}
	for _, k := range n.kids {
		walkRefs(k, f)
	}
}

func (e *Enforcer) cycleError(stack []int, back int) error {
	start := 0
	for k, i := range stack {
		if i == back {
			start = k
		}
	}
	var names []string
	for _, i := range stack[start:] {
		names = append(names, e.srcs[i].name)
	}
	names = append(names, e.srcs[back].name)
	// Name a file-defined rule of the cycle when there is one: that is
	// where the operator has to look.
	where := e.srcs[back].where()
	for _, i := range stack[start:] {
		if e.srcs[i].file != "" {
			where = e.srcs[i].where()
			break
		}
	}
	return fmt.Errorf("%s: rule references itself: %s", where, strings.Join(names, " -> "))
}

// Enforce reports whether creds may perform action on target. An unknown
// action is denied and logged: it is a programming error in the caller,
// which Known lets tests catch.
func (e *Enforcer) Enforce(action string, creds Credentials, target map[string]any) bool {
	i, ok := e.index[action]
	if !ok {
		slog.Warn("policy: unknown action, denying", "action", action)
		return false
	}
	return e.roots[i].eval(e.roots, creds, target)
}

// Known reports whether action names a rule of this Enforcer.
func (e *Enforcer) Known(action string) bool {
	_, ok := e.index[action]
	return ok
}

// Names lists the rules of this Enforcer, sorted.
func (e *Enforcer) Names() []string {
	names := make([]string, 0, len(e.srcs))
	for _, s := range e.srcs {
		names = append(names, s.name)
	}
	sort.Strings(names)
	return names
}

// CheckString returns the check string in force for a rule, after
// overrides, and whether the rule exists.
func (e *Enforcer) CheckString(name string) (string, bool) {
	i, ok := e.index[name]
	if !ok {
		return "", false
	}
	return e.srcs[i].check, true
}
