package ecpay

import (
	"fmt"
	"strings"
	"time"

	"github.com/posagent/posagent"
)

// APIError is ECPay's answer when it is not success: the endpoint, the envelope
// TransCode (1 when the envelope was fine) and the RtnCode with its message. It
// carries nothing of the request, so it is safe to log.
type APIError struct {
	Endpoint  string
	HTTP      int // HTTP status when the failure was at that level
	TransCode int64
	RtnCode   int64
	Msg       string
}

func (e *APIError) Error() string {
	switch {
	case e.HTTP != 0:
		return fmt.Sprintf("ecpay %s: HTTP %d%s", e.Endpoint, e.HTTP, prefixed(e.Msg))
	case e.TransCode != 1:
		return fmt.Sprintf("ecpay %s: TransCode %d%s", e.Endpoint, e.TransCode, prefixed(e.Msg))
	}
	return fmt.Sprintf("ecpay %s: RtnCode %d%s", e.Endpoint, e.RtnCode, prefixed(e.Msg))
}

func prefixed(msg string) string {
	if msg == "" {
		return ""
	}
	return ": " + msg
}

// Known RtnCodes (ecpay.md §8). ECPay publishes the full list only in the
// merchant back office; these are the ones documented or seen live.
const (
	codeSuccess           = 1
	codeNotFound          = 2
	codeInvoiceNotFound   = 1600003
	codeTrackNotAdded     = 1500047
	codeTrackNotEnabled   = 5070350
	codeTrackExhausted    = 1100040 // [U]
	codeDuplicateRelate   = 10000009
	codeSumMismatch       = 5000022
	codeZeroNoClearance   = 5000007
	codeCarrierPrinted    = 5000015
	codeTaxIDNoCarrier    = 5000028
	codeBadLoveCode       = 2020001
	codeHasAllowances     = 5070450
	codeAlreadyVoided     = 2000063
	codeAllowanceNotFound = 2000039
	codeMOFFailed         = 9000001
	codeSystemError       = 9999999
	rateLimitPause        = 30 * time.Minute // ECPay: after HTTP 403 wait 30 minutes [C]
)

// Message fragments for codes not in the table: ECPay says to classify by
// RtnMsg text when the code is unknown (§8). The code for an offline InvoiceNo
// uploaded twice is unpublished [U]: it is recognised by its message (重複).
var (
	clockWords     = []string{"timestamp", "時間戳", "時效", "時間已過期", "時間逾期"}
	configWords    = []string{"解密", "金鑰", "簽章", "hashkey", "hashiv", "merchantid", "廠商編號", "特店編號"}
	transientWords = []string{"請稍後", "維護", "逾時", "系統忙碌", "timeout"}
	duplicateWords = []string{"重複", "重覆", "已存在"}
	voidedWords    = []string{"已作廢", "已經作廢", "已註銷"}
	notFoundWords  = []string{"查無", "不存在"}
)

func containsAny(s string, words []string) bool {
	s = strings.ToLower(s)
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// isAlreadyVoided reports whether a failed void says the thing is voided
// already: for a void that is success.
func isAlreadyVoided(e *APIError) bool {
	return e.TransCode == 1 && (e.RtnCode == codeAlreadyVoided || containsAny(e.Msg, voidedWords))
}

// classifyRtn maps a RtnCode ≠ 1 onto an error kind. Unknown codes are
// KindInvalid: a person looks at the dead job, nothing retries forever.
func classifyRtn(code int64, msg string) posagent.Kind {
	switch code {
	case codeNotFound, codeInvoiceNotFound, codeAllowanceNotFound:
		return posagent.KindNotFound
	case codeTrackNotAdded, codeTrackNotEnabled, codeTrackExhausted:
		return posagent.KindConfig
	case codeDuplicateRelate:
		return posagent.KindDuplicate
	case codeSumMismatch, codeZeroNoClearance, codeCarrierPrinted, codeTaxIDNoCarrier, codeBadLoveCode:
		return posagent.KindInvalid
	case codeHasAllowances:
		return posagent.KindConflict
	case codeAlreadyVoided:
		// On a void this is success (voidResult); anywhere else the request
		// contradicts a voided document.
		return posagent.KindConflict
	case codeMOFFailed, codeSystemError:
		return posagent.KindTransient
	}
	switch {
	case containsAny(msg, voidedWords):
		return posagent.KindConflict
	case containsAny(msg, duplicateWords):
		return posagent.KindDuplicate
	case containsAny(msg, transientWords):
		return posagent.KindTransient
	case containsAny(msg, notFoundWords):
		return posagent.KindNotFound
	}
	return posagent.KindInvalid
}

// classifyTrans maps a TransCode ≠ 1 (the envelope failed: transport, crypto,
// format) onto a kind by its message.
func classifyTrans(msg string) posagent.Kind {
	switch {
	case containsAny(msg, clockWords):
		return posagent.KindClock
	case containsAny(msg, configWords):
		return posagent.KindConfig
	case containsAny(msg, transientWords):
		return posagent.KindTransient
	}
	return posagent.KindInvalid
}
