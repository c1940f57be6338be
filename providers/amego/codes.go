package amego

import (
	"fmt"
	"strings"
	"time"

	"github.com/posagent/posagent"
)

// APIError is Amego's answer when it is not success: the endpoint, the HTTP
// status when the failure was at that level, else the code and message. It
// carries nothing of the request, so it is safe to log.
type APIError struct {
	Endpoint string
	HTTP     int
	Code     int64
	Msg      string
}

func (e *APIError) Error() string {
	if e.HTTP != 0 {
		s := fmt.Sprintf("amego %s: HTTP %d", e.Endpoint, e.HTTP)
		if e.Msg != "" {
			s += ": " + e.Msg
		}
		return s
	}
	s := fmt.Sprintf("amego %s: code %d", e.Endpoint, e.Code)
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	return s
}

// Amego's codes (providers.md §1.5 and §5.2 A.4, from Amego's list mid=71).
const (
	codeMaintenance   = 10
	codeClock         = 15
	codeDBDown        = 18
	codeBusy          = 21
	codeRecord        = 99 // f0401_custom: per-record error, read by its message
	codeNoNumbers     = 3040111
	codeNoNextNumber  = 3040191
	codeOrderExists   = 3040171
	codePrintFailed   = 3040192
	codeStillIssuing  = 3050121
	codeVoided        = 3050122
	codeVoidReissued  = 3050123
	codeNoInvoice     = 3050125
	codeVoidDeadline  = 3050126
	codeVoidQueued    = 3050131
	codeHasAllowance  = 3050141
	codeOrigVoided    = 4040153
	codeOrigNotFound  = 4040156
	codeOrigPending   = 4040158
	codeAllowExists   = 4040161
	codeAllowExistsV  = 4040162
	codeAVStillIssue  = 4050131
	codeAVVoided      = 4050132
	codeAVNotFound    = 4050134
	codeAVDeadline    = 4050135
	codeAVWaiting     = 4050141
	codeQueryWindow   = 51
	codeQueryPending  = 52
	codeQueryNotFound = 71
)

// rateLimitWait is the pause after code 21 ("too many users") or HTTP 429:
// Amego publishes no figure [U], so a minute, the agent's own default.
const rateLimitWait = time.Minute

// The code-99 messages of f0401_custom that are not plain field errors
// (providers.md §5.2 A.2).
var (
	dupWords      = []string{"已存在開立"} // also 已存在開立作廢: the number is there (and voided)
	reissueWords  = []string{"註銷中"}   // being void-reissued: the record contradicts Amego's
	deadlineWords = []string{"超過開立期限", "非當期字軌", "號碼不在字軌起訖內", "字軌類別", "字軌類型"}
)

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// kind maps a code ≠ 0 onto an error kind (providers.md §1.5). Unknown codes
// are KindInvalid: a person looks at the dead job, nothing retries forever.
func (e *APIError) kind() posagent.Kind {
	c := e.Code
	switch c {
	case codeMaintenance, codeDBDown, codePrintFailed, codeStillIssuing, codeOrigPending, codeAVStillIssue, codeQueryPending:
		return posagent.KindTransient
	case codeBusy:
		return posagent.KindRateLimited
	case codeClock:
		return posagent.KindClock
	case 11, 12, 13, 14, 16, 19, 22:
		// 統編 empty/wrong, inactive, IP not allowed, bad signature, suspended,
		// API not enabled: the set-up, not this record.
		return posagent.KindConfig
	case 17, 20, 23, 31, 32, 33, 34, 35, 36:
		// Empty data, not JSON, "must be an array", bad query: a bug here.
		return posagent.KindInvalid
	case codeRecord:
		switch {
		case containsAny(e.Msg, dupWords):
			return posagent.KindDuplicate
		case containsAny(e.Msg, reissueWords):
			return posagent.KindConflict
		}
		return posagent.KindInvalid
	case codeNoNumbers, codeNoNextNumber:
		return posagent.KindExhausted
	case codeOrderExists, codeAllowExists, codeAllowExistsV:
		return posagent.KindDuplicate
	case codeVoidReissued, codeVoidDeadline, codeHasAllowance, codeOrigVoided, codeAVDeadline:
		return posagent.KindConflict
	case codeNoInvoice, codeOrigNotFound, codeAVNotFound, codeQueryWindow, codeQueryNotFound:
		return posagent.KindNotFound
	case codeVoided, codeVoidQueued, codeAVVoided, codeAVWaiting:
		// Success on a void (see settledVoid); anywhere else a contradiction.
		return posagent.KindConflict
	}
	return posagent.KindInvalid
}

// asError wraps e in a *posagent.Error of its kind, with the advice a person
// needs for the permanent ones.
func (e *APIError) asError() error {
	pe := &posagent.Error{Kind: e.kind(), Err: e}
	switch {
	case pe.Kind == posagent.KindRateLimited:
		pe.RetryAfter = rateLimitWait
	case e.Code == codeVoidDeadline || e.Code == codeHasAllowance:
		pe.Message = "the invoice can no longer be voided at Amego; issue an allowance for the remainder instead"
	case e.Code == codeRecord && containsAny(e.Msg, deadlineWords):
		pe.Message = "Amego refuses the number or date (upload deadline or track); the invoice must be settled in the Amego back office"
	case pe.Kind == posagent.KindExhausted:
		pe.Message = "Amego has no numbers left in the API tracks: assign more in the Amego back office"
	}
	return pe
}

// settledVoid turns "already voided" / "void already queued" into success.
func settledVoid(err error) error {
	if e := apiError(err); e != nil && e.HTTP == 0 {
		switch e.Code {
		case codeVoided, codeVoidQueued, codeAVVoided, codeAVWaiting:
			return nil
		}
	}
	return err
}
