package policy

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// maxDepth bounds the nesting of parentheses and "not" so that a hostile
// policy file cannot exhaust the stack of the parser or of evaluation.
const maxDepth = 64

// op is the kind of a node in a parsed check tree.
type op uint8

const (
	opTrue    op = iota // @, or the empty check string
	opFalse             // !
	opAnd               // kids all true
	opOr                // any kid true
	opNot               // kids[0] false
	opRule              // rule:NAME
	opRole              // role:NAME, case-insensitive
	opGeneric           // KEY:VALUE
)

// node is one check in a parsed tree. A struct with a switch keeps
// evaluation free of interface dispatch and allocations.
type node struct {
	op   op
	kids []*node

	// text is the check as written ("role:admin"), for String.
	text string

	// opRule: the referenced rule; idx is its slot in the Enforcer, -1 when
	// unresolved or unknown (which evaluates false, as in oslo.policy).
	name string
	idx  int

	// opGeneric: the left side. When isLit, lit is the literal rendered the
	// way Python's str() would; otherwise path is a credential key, dotted
	// for nested values.
	isLit bool
	lit   string
	path  string

	// opRole and opGeneric: the right side, with %(key)s substitutions.
	match template
}

// Check is a parsed oslo.policy check string.
type Check struct {
	root *node
}

// Parse parses an oslo.policy check string such as
// "role:admin or (role:reader and system_scope:all)". The empty string is
// a check that always passes, as in oslo.policy. Unlike oslo.policy, which
// logs and substitutes a deny-all check, any syntax it would not understand
// is an error here, and so are http:/https: checks.
func Parse(check string) (Check, error) {
	root, err := parse(check)
	if err != nil {
		return Check{}, err
	}
	return Check{root: root}, nil
}

// String renders the check the way oslo.policy renders its check objects:
// "and"/"or" groups in parentheses, "not x", and leaf checks as written.
func (c Check) String() string {
	if c.root == nil {
		return "!"
	}
	var b strings.Builder
	c.root.format(&b)
	return b.String()
}

// Eval evaluates the check on its own. Without an Enforcer there are no
// named rules, so every rule:NAME check is false.
func (c Check) Eval(creds Credentials, target map[string]any) bool {
	if c.root == nil {
		return false
	}
	return c.root.eval(nil, creds, target)
}

func (n *node) format(b *strings.Builder) {
	switch n.op {
	case opTrue:
		b.WriteByte('@')
	case opFalse:
		b.WriteByte('!')
	case opAnd, opOr:
		sep := " and "
		if n.op == opOr {
			sep = " or "
		}
		b.WriteByte('(')
		for i, k := range n.kids {
			if i > 0 {
				b.WriteString(sep)
			}
			k.format(b)
		}
		b.WriteByte(')')
	case opNot:
		b.WriteString("not ")
		n.kids[0].format(b)
	default:
		b.WriteString(n.text)
	}
}

// token kinds produced by tokenize.
type tokKind uint8

const (
	tokLParen tokKind = iota
	tokRParen
	tokAnd
	tokOr
	tokNot
	tokCheck
)

type token struct {
	kind tokKind
	text string
}

// tokenize splits a check string the way oslo.policy's _parse_tokenize does:
// on whitespace, then leading "(" and trailing ")" peeled off each word, and
// and/or/not recognised case-insensitively.
func tokenize(s string) ([]token, error) {
	var toks []token
	for _, word := range strings.FieldsFunc(s, unicode.IsSpace) {
		clean := strings.TrimLeft(word, "(")
		for range len(word) - len(clean) {
			toks = append(toks, token{kind: tokLParen, text: "("})
		}
		if clean == "" {
			continue
		}
		word = clean
		clean = strings.TrimRight(word, ")")
		trail := len(word) - len(clean)
		switch strings.ToLower(clean) {
		case "and":
			toks = append(toks, token{kind: tokAnd, text: clean})
		case "or":
			toks = append(toks, token{kind: tokOr, text: clean})
		case "not":
			toks = append(toks, token{kind: tokNot, text: clean})
		case "":
		default:
			// oslo.policy turns a quoted word into a "string" token that no
			// grammar rule accepts. It tests the word before peeling ")",
			// so it lets "('a':'b')" through as a check that can never
			// pass; testing the peeled word refuses that too and keeps
			// String's output parseable.
			if len(clean) >= 2 && (clean[0] == '"' || clean[0] == '\'') && clean[len(clean)-1] == clean[0] {
				return nil, fmt.Errorf("bare quoted string %s is not a check", clean)
			}
			toks = append(toks, token{kind: tokCheck, text: clean})
		}
		for range trail {
			toks = append(toks, token{kind: tokRParen, text: ")"})
		}
	}
	return toks, nil
}

// parser is a recursive-descent parser with oslo.policy's precedence:
// not binds tighter than and, which binds tighter than or.
type parser struct {
	toks  []token
	pos   int
	depth int
}

func parse(s string) (*node, error) {
	if s == "" {
		return &node{op: opTrue, text: ""}, nil
	}
	toks, err := tokenize(s)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return nil, errors.New("check string is only whitespace")
	}
	p := &parser{toks: toks}
	n, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", p.toks[p.pos].text)
	}
	return n, nil
}

func (p *parser) peek() (token, bool) {
	if p.pos >= len(p.toks) {
		return token{}, false
	}
	return p.toks[p.pos], true
}

func (p *parser) parseOr() (*node, error) {
	first, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	kids := []*node{first}
	for {
		t, ok := p.peek()
		if !ok || t.kind != tokOr {
			break
		}
		p.pos++
		n, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		kids = append(kids, n)
	}
	if len(kids) == 1 {
		return first, nil
	}
	return &node{op: opOr, kids: kids}, nil
}

func (p *parser) parseAnd() (*node, error) {
	first, err := p.parseNot()
	if err != nil {
		return nil, err
	}
	kids := []*node{first}
	for {
		t, ok := p.peek()
		if !ok || t.kind != tokAnd {
			break
		}
		p.pos++
		n, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		kids = append(kids, n)
	}
	if len(kids) == 1 {
		return first, nil
	}
	return &node{op: opAnd, kids: kids}, nil
}

func (p *parser) parseNot() (*node, error) {
	t, ok := p.peek()
	if !ok {
		return nil, errors.New("unexpected end of check string")
	}
	switch t.kind {
	case tokNot:
		if err := p.enter(); err != nil {
			return nil, err
		}
		p.pos++
		n, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		p.depth--
		return &node{op: opNot, kids: []*node{n}}, nil
	case tokLParen:
		if err := p.enter(); err != nil {
			return nil, err
		}
		p.pos++
		n, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		t, ok := p.peek()
		if !ok || t.kind != tokRParen {
			return nil, errors.New(`missing ")"`)
		}
		p.pos++
		p.depth--
		return n, nil
	case tokCheck:
		p.pos++
		return parseLeaf(t.text)
	default:
		return nil, fmt.Errorf("unexpected %q", t.text)
	}
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return fmt.Errorf("nested deeper than %d levels", maxDepth)
	}
	return nil
}

// parseLeaf parses one check word, as oslo.policy's _parse_check does.
func parseLeaf(s string) (*node, error) {
	switch s {
	case "@":
		return &node{op: opTrue, text: s}, nil
	case "!":
		return &node{op: opFalse, text: s}, nil
	}
	kind, match, ok := strings.Cut(s, ":")
	if !ok {
		return nil, fmt.Errorf("check %q has no ':'", s)
	}
	switch kind {
	case "":
		return nil, fmt.Errorf("check %q has an empty left side", s)
	case "rule":
		return &node{op: opRule, text: s, name: match, idx: -1}, nil
	case "http", "https":
		return nil, fmt.Errorf("check %q: %s checks are not supported", s, kind)
	}
	tpl, err := parseTemplate(match)
	if err != nil {
		return nil, fmt.Errorf("check %q: %w", s, err)
	}
	if kind == "role" {
		return &node{op: opRole, text: s, match: tpl}, nil
	}
	n := &node{op: opGeneric, text: s, match: tpl}
	lit, isLit, err := pyLiteral(kind)
	if err != nil {
		return nil, fmt.Errorf("check %q: %w", s, err)
	}
	if isLit {
		n.isLit, n.lit = true, lit
	} else {
		n.path = kind
	}
	return n, nil
}

// template is the right side of a check: literal text and %(key)s
// substitutions from the target, as Python's "%" operator applies them.
type template struct {
	parts []part
}

type part struct {
	text  string // literal text, or the target key when isKey
	isKey bool
}

func parseTemplate(s string) (template, error) {
	if !strings.Contains(s, "%") {
		return template{parts: []part{{text: s}}}, nil
	}
	var t template
	var lit strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		if c != '%' {
			lit.WriteByte(c)
			i++
			continue
		}
		if i+1 < len(s) && s[i+1] == '%' {
			lit.WriteByte('%')
			i += 2
			continue
		}
		if i+1 >= len(s) || s[i+1] != '(' {
			return template{}, fmt.Errorf("unsupported %% format in %q: only %%(key)s and %%%% are allowed", s)
		}
		end := strings.IndexByte(s[i+2:], ')')
		if end < 0 {
			return template{}, fmt.Errorf("unterminated %%( in %q", s)
		}
		key := s[i+2 : i+2+end]
		if strings.Contains(key, "(") {
			return template{}, fmt.Errorf("nested parentheses in substitution key %q", key)
		}
		j := i + 2 + end + 1
		if j >= len(s) || s[j] != 's' {
			return template{}, fmt.Errorf("substitution %%(%s) must end in 's'", key)
		}
		if lit.Len() > 0 {
			t.parts = append(t.parts, part{text: lit.String()})
			lit.Reset()
		}
		t.parts = append(t.parts, part{text: key, isKey: true})
		i = j + 1
	}
	if lit.Len() > 0 || len(t.parts) == 0 {
		t.parts = append(t.parts, part{text: lit.String()})
	}
	return t, nil
}

// pyLiteral reports whether the left side of a generic check is a Python
// literal, which oslo.policy detects with ast.literal_eval and then compares
// with the substituted right side instead of looking into the credentials.
// It returns the literal as Python's str() would render it. Only strings,
// True/False/None and decimal numbers are supported; anything else that
// looks like a literal is an error rather than a silent credential lookup.
func pyLiteral(kind string) (string, bool, error) {
	switch kind {
	case "True", "False", "None":
		return kind, true, nil
	}
	c := kind[0]
	if c == '\'' || c == '"' {
		if len(kind) < 2 || kind[len(kind)-1] != c {
			return "", false, fmt.Errorf("unterminated string literal %s", kind)
		}
		body := kind[1 : len(kind)-1]
		if strings.IndexByte(body, c) >= 0 || strings.IndexByte(body, '\\') >= 0 {
			return "", false, fmt.Errorf("unsupported string literal %s", kind)
		}
		return body, true, nil
	}
	if c == '[' || c == '{' || c == '(' {
		return "", false, fmt.Errorf("unsupported literal %s", kind)
	}
	num := kind
	if c == '-' || c == '+' {
		num = kind[1:]
	}
	if num == "" || !(num[0] >= '0' && num[0] <= '9' || num[0] == '.' && len(num) > 1 && num[1] >= '0' && num[1] <= '9') {
		return "", false, nil // a credential key
	}
	s, err := pyNumber(kind)
	if err != nil {
		return "", false, err
	}
	return s, true, nil
}

// pyNumber renders a decimal int or float literal the way Python's str()
// renders the value ast.literal_eval gives for it.
func pyNumber(s string) (string, error) {
	neg := false
	body := s
	if body[0] == '-' || body[0] == '+' {
		neg = body[0] == '-'
		body = body[1:]
	}
	digits := strings.ReplaceAll(body, "_", "")
	if strings.ContainsAny(body, ".eE") {
		if strings.Contains(body, "__") || strings.HasPrefix(body, "_") || strings.HasSuffix(body, "_") {
			return "", fmt.Errorf("invalid number %s", s)
		}
		f, err := strconv.ParseFloat(digits, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return "", fmt.Errorf("invalid number %s", s)
		}
		if neg {
			f = -f
		}
		return pyFloat(f), nil
	}
	if digits == "" || strings.Contains(body, "__") || body[0] == '_' || body[len(body)-1] == '_' {
		return "", fmt.Errorf("invalid number %s", s)
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return "", fmt.Errorf("invalid number %s", s)
		}
	}
	if len(digits) > 1 && digits[0] == '0' {
		if strings.Trim(digits, "0") != "" {
			return "", fmt.Errorf("invalid number %s: leading zeros", s)
		}
		digits = "0"
	}
	if neg && digits != "0" {
		return "-" + digits, nil
	}
	return digits, nil
}

// pyFloat renders f as Python's repr/str does: shortest round-trip digits,
// fixed notation with a ".0" for exponents in [-4, 16), else "1e+16" style.
func pyFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	if f == 0 {
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	// The shortest 'e' form carries the decimal exponent exactly.
	e := strconv.FormatFloat(f, 'e', -1, 64)
	exp, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
	if exp >= -4 && exp < 16 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	return e
}
