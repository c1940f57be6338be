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

// Known codes (ecpay.md §8 and §12). ECPay publishes the full list only in
// the merchant back office; these are the ones documented, in its SDKs, or
// seen live against its stage server (§12, the paid-tw client).
const (
	codeSuccess           = 1
	codeNotFound          = 2
	codeInvoiceNotFound   = 1600003
	codeTrackNotAdded     = 1500047
	codeTrackNotEnabled   = 5070350
	codeTrackExhausted    = 1100040  // [U]
	codeDuplicateRelate   = 5070357  // live (§12): duplicate RelateNumber, "…重覆"
	codeDuplicateRelateV1 = 10000009 // §8's older reading [U]; kept, it cannot mean anything else
	codeSumMismatch       = 5000022
	codeZeroNoClearance   = 5000007
	codeCarrierPrinted    = 5000015
	codeTaxIDNoCarrier    = 5000028
	codeBadLoveCode       = 2020001
	codeHasAllowances     = 5070450
	codeAlreadyVoided     = 2000063 // allowance already voided [3P]
	codeInvoiceVoided     = 5070453 // live (§12): "B2C作廢發票 該發票已被作廢過"
	codeAllowanceNotFound = 2000039
	codeMOFFailed         = 9000001
	codeSystemError       = 9999999
	rateLimitPause        = 30 * time.Minute // ECPay: after HTTP 403 wait 30 minutes [C]
)

// TransCodes ≠ 1 that are known (§12, live against stage): the credentials,
// not the document, are wrong. Both pause the provider (KindAuth) instead of
// failing each queued job.
const (
	transDecryptFail  = 110 // "The parameter [Data] decrypt fail." — HashKey/HashIV wrong
	transNotActivated = 115 // "B2C/B2B功能尚未開通，請聯繫所屬業務" — merchant not enabled
)

// Message fragments for codes not in the table: ECPay says to classify by
// RtnMsg text when the code is unknown (§8). The code for an offline InvoiceNo
// uploaded twice is unpublished (§12 "open"): it is recognised by the words a
// Chinese "already there" answer uses (已開立, 已上傳, 重覆/重複, 已存在).
var (
	clockWords     = []string{"timestamp", "時間戳", "時效", "時間已過期", "時間逾期"}
	authWords      = []string{"decrypt", "解密", "金鑰", "簽章", "hashkey", "hashiv", "尚未開通", "未開通"}
	configWords    = []string{"merchantid", "廠商編號", "特店編號"}
	transientWords = []string{"請稍後", "維護", "逾時", "系統忙碌", "timeout"}
	duplicateWords = []string{"重複", "重覆", "已存在", "已開立", "已上傳"}
	// "該發票已被作廢過" (5070453, live) has 已被作廢, not 已作廢 (§12).
	voidedWords   = []string{"已作廢", "已被作廢", "作廢過", "已經作廢", "已註銷"}
	notFoundWords = []string{"查無", "不存在"}
	// The rule "發票開立時間不可大於當下上傳發票的時間" (i301 §13) has no
	// published code or message (§12): recognised by its subject (the issue
	// time) and its complaint (later than / the upload time).
	issueTimeSubjects = []string{"開立時間", "發票時間", "發票日期", "invoicedate", "invoice date"}
	issueTimeWords    = []string{"大於", "晚於", "超過", "上傳時間", "later than", "after"}
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
	return e.TransCode == 1 && (e.RtnCode == codeAlreadyVoided || e.RtnCode == codeInvoiceVoided || containsAny(e.Msg, voidedWords))
}

// isIssueTimeRefusal reports whether ECPay refused an invoice because its
// issue time is later than ECPay's time of upload: ECPay's clock has not
// reached the issue time yet. It is a wait, never a bad document.
func isIssueTimeRefusal(e *APIError) bool {
	return e != nil && e.TransCode == 1 && containsAny(e.Msg, issueTimeSubjects) && containsAny(e.Msg, issueTimeWords)
}

// issueTimeWait is how long a job waits after an issue-time refusal when the
// client cannot compute the wait from the measured skew: ECPay's clock is at
// most a second or so behind when it is right.
const issueTimeWait = 1500 * time.Millisecond

// classifyRtn maps a RtnCode ≠ 1 onto an error kind. Unknown codes are
// KindInvalid: a person looks at the dead job, nothing retries forever —
// except a message that names a wait (issue time, maintenance), which must
// never kill a job.
func classifyRtn(code int64, msg string) posagent.Kind {
	switch code {
	case codeNotFound, codeInvoiceNotFound, codeAllowanceNotFound:
		return posagent.KindNotFound
	case codeTrackNotAdded, codeTrackNotEnabled, codeTrackExhausted:
		return posagent.KindConfig
	case codeDuplicateRelate, codeDuplicateRelateV1:
		return posagent.KindDuplicate
	case codeSumMismatch, codeZeroNoClearance, codeCarrierPrinted, codeTaxIDNoCarrier, codeBadLoveCode:
		return posagent.KindInvalid
	case codeHasAllowances:
		return posagent.KindConflict
	case codeAlreadyVoided, codeInvoiceVoided:
		// On a void this is success (voidResult); anywhere else the request
		// contradicts a voided document.
		return posagent.KindConflict
	case codeMOFFailed, codeSystemError:
		return posagent.KindTransient
	}
	switch {
	case containsAny(msg, issueTimeSubjects) && containsAny(msg, issueTimeWords):
		return posagent.KindTransient
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
// format) onto a kind by its code when known, else by its message.
func classifyTrans(code int64, msg string) posagent.Kind {
	switch code {
	case transDecryptFail, transNotActivated:
		return posagent.KindAuth
	}
	switch {
	case containsAny(msg, clockWords):
		return posagent.KindClock
	case containsAny(msg, authWords):
		return posagent.KindAuth
	case containsAny(msg, configWords):
		return posagent.KindConfig
	case containsAny(msg, transientWords):
		return posagent.KindTransient
	}
	// An envelope ECPay cannot read is never about one document (posagent
	// builds every envelope the same way): an unknown TransCode stops the
	// provider for a person to look at, instead of failing the queued jobs one
	// by one.
	return posagent.KindConfig
}
