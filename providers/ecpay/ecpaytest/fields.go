package ecpaytest

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/posagent/posagent"
)

// refusal is a RtnCode ≠ 1 answer.
type refusal struct {
	code int
	msg  string
}

func (r *refusal) Error() string { return fmt.Sprintf("%d %s", r.code, r.msg) }

// codeField is the stand-in's own RtnCode for a field that breaks the
// documented rule. ECPay has one code per rule, published only in its back
// office; the client treats unknown codes as invalid data, which is what these are.
const codeField = 4000001

func fieldErr(format string, args ...any) *refusal {
	return &refusal{code: codeField, msg: fmt.Sprintf(format, args...)}
}

// fields reads a decrypted Data object the way ECPay documents it, field by
// field, and remembers which fields were read so that anything else is refused
// (a misspelt field name must fail here, not pass silently).
type fields struct {
	path string
	m    map[string]any
	seen map[string]bool
}

func newFields(path string, m map[string]any) *fields {
	return &fields{path: path, m: m, seen: map[string]bool{}}
}

func (f *fields) name(n string) string {
	if f.path == "" {
		return n
	}
	return f.path + "." + n
}

func (f *fields) get(n string) (any, bool) {
	f.seen[n] = true
	v, ok := f.m[n]
	return v, ok && v != nil
}

// str reads a String(max) field (max in characters).
func (f *fields) str(n string, max int, required bool) (string, error) {
	v, ok := f.get(n)
	if !ok {
		if required {
			return "", fieldErr("%s 為必填", f.name(n))
		}
		return "", nil
	}
	s, isStr := v.(string)
	if !isStr {
		return "", fieldErr("%s 必須為字串", f.name(n))
	}
	if required && s == "" {
		return "", fieldErr("%s 為必填", f.name(n))
	}
	if utf8.RuneCountInString(s) > max {
		return "", fieldErr("%s 長度超過 %d", f.name(n), max)
	}
	return s, nil
}

// pattern reads a String field that must match re when present.
func (f *fields) pattern(n string, re *regexp.Regexp, required bool) (string, error) {
	s, err := f.str(n, 200, required)
	if err != nil || s == "" {
		return s, err
	}
	if !re.MatchString(s) {
		return "", fieldErr("%s 格式錯誤", f.name(n))
	}
	return s, nil
}

// oneOf reads a String enumeration.
func (f *fields) oneOf(n string, required bool, allowed ...string) (string, error) {
	s, err := f.str(n, 10, required)
	if err != nil || (s == "" && !required) {
		return s, err
	}
	for _, a := range allowed {
		if s == a {
			return s, nil
		}
	}
	return "", fieldErr("%s 必須為 %s 其中之一", f.name(n), strings.Join(allowed, "/"))
}

// integer reads an Int field; a JSON number without fraction.
func (f *fields) integer(n string, required bool) (int64, bool, error) {
	v, ok := f.get(n)
	if !ok {
		if required {
			return 0, false, fieldErr("%s 為必填", f.name(n))
		}
		return 0, false, nil
	}
	num, isNum := v.(json.Number)
	if !isNum {
		return 0, false, fieldErr("%s 必須為數字", f.name(n))
	}
	i, err := num.Int64()
	if err != nil {
		return 0, false, fieldErr("%s 必須為整數", f.name(n))
	}
	return i, true, nil
}

// intOrString reads a field documented as Int in one place and String in
// another [U]: both are taken.
func (f *fields) intOrString(n string, required bool) (int64, error) {
	v, ok := f.get(n)
	if ok {
		if s, isStr := v.(string); isStr {
			var i int64
			if _, err := fmt.Sscanf(s, "%d", &i); err != nil || fmt.Sprint(i) != s {
				return 0, fieldErr("%s 必須為數字", f.name(n))
			}
			return i, nil
		}
	}
	i, _, err := f.integer(n, required)
	return i, err
}

// number reads a Number field (≤ 7 decimals) exactly.
func (f *fields) number(n string) (posagent.Decimal, error) {
	v, ok := f.get(n)
	if !ok {
		return posagent.Decimal{}, fieldErr("%s 為必填", f.name(n))
	}
	num, isNum := v.(json.Number)
	if !isNum {
		return posagent.Decimal{}, fieldErr("%s 必須為數字", f.name(n))
	}
	d, err := posagent.ParseDecimal(num.String())
	if err != nil || d.Places() > 7 {
		return posagent.Decimal{}, fieldErr("%s 必須為最多 7 位小數的數字", f.name(n))
	}
	return d, nil
}

// sized reads a Number of at most digits integer digits and places decimals:
// ECPay's published sizes of ItemCount (8, 2), ItemPrice (10, 7) and
// ItemAmount (12, 7).
func (f *fields) sized(n string, digits, places int) (posagent.Decimal, error) {
	d, err := f.number(n)
	if err != nil {
		return d, err
	}
	if d.IntDigits() > digits || d.Places() > places {
		return posagent.Decimal{}, fieldErr("%s 支援整數 %d 位、小數 %d 位", f.name(n), digits, places)
	}
	return d, nil
}

// list reads an array of objects.
func (f *fields) list(n string, max int) ([]*fields, error) {
	v, ok := f.get(n)
	if !ok {
		return nil, fieldErr("%s 為必填", f.name(n))
	}
	arr, isArr := v.([]any)
	if !isArr || len(arr) == 0 {
		return nil, fieldErr("%s 必須為非空陣列", f.name(n))
	}
	if len(arr) > max {
		return nil, fieldErr("%s 超過 %d 筆", f.name(n), max)
	}
	out := make([]*fields, len(arr))
	for i, e := range arr {
		m, isObj := e.(map[string]any)
		if !isObj {
			return nil, fieldErr("%s[%d] 必須為物件", f.name(n), i)
		}
		out[i] = newFields(fmt.Sprintf("%s[%d]", f.name(n), i), m)
	}
	return out, nil
}

// unknown refuses fields no rule read.
func (f *fields) unknown() error {
	var extra []string
	for k := range f.m {
		if !f.seen[k] {
			extra = append(extra, f.name(k))
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return fieldErr("未定義的欄位 %s", strings.Join(extra, ", "))
	}
	return nil
}

// first returns the first non-nil error.
func first(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
