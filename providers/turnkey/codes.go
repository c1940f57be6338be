package turnkey

import (
	"regexp"
	"strings"
)

// platformCodes are the MOF platform's answers a POS meets, in Turnkey's
// words and in words an operator can act on (turnkey.md §2.4).
var platformCodes = map[string]string{
	"E0101": "賣方無電子發票使用資格: the seller is not registered for e-invoices",
	"E0102": "發票字軌號碼非申購部分: the number is not in a range assigned to this seller",
	"E0103": "發票明細加總與總金額不符: the lines do not add up to the invoice's amounts",
	"E0105": "發票總金額不得為零: the total is zero",
	"E0106": "發票明細數量不得為零: a line has quantity zero",
	"E0107": "發票年度字軌不符: the track does not belong to the invoice's period",
	"E0201": "訊息重複: the platform already has this message",
	"E0202": "開立發票資料不存在: the platform has no such invoice (was it accepted first?)",
	"E0205": "開立折讓證明單資料不存在: the platform has no such allowance",
	"E0207": "資料已過期: the data is too old",
	"E0208": "資料非當期: the data is not of the current period",
	"E0209": "發票日期及票號必須依序: a higher number carries an earlier date",
	"E0211": "發票無法折讓，請查明發票狀態: the invoice cannot take an allowance in its state",
	"E0213": "發票無法作廢，請查明發票狀態: the invoice cannot be voided in its state",
	"E0218": "折讓單無法作廢，請查明折讓單狀態: the allowance cannot be voided in its state",
	"E0220": "訊息明細項目重複，請查明細排列序號: two lines share a sequence number",
	"E0221": "折讓金額大於發票銷售額減已折讓金額: the allowance is more than what is left of the invoice",
	"E0304": "XML原文格式不符: the XML does not match the format",
	"E0305": "XML原文資料內容檢核失敗: the XML content failed the platform's checks",
	"E0402": "此筆發票已作廢: the invoice is already voided",
	"E1001": "發票受贈統編/格式錯誤: the donation code is wrong",
	"E1002": "發票開立日期不得過早: the invoice date is too early",
	"E1003": "B2C發票重覆開立: the invoice was already issued",
	"E1004": "超出可傳送時間範圍: sent outside the accepted time window",
	"E1005": "CarrierId2 不得有前後空白: the carrier id has leading or trailing blanks",
}

// turnkeyCodes are Turnkey's own ERRORCODEs (TURNKEY_SYSEVENT_LOG).
var turnkeyCodes = map[string]string{
	"-001": "job data error",
	"-002": "file read/write error",
	"-003": "送方 (sender) or account not set up in Turnkey: add the seller's 統編 under 送方管理",
	"-004": "the file could not be parsed",
	"-007": "signing failed: check Turnkey's certificate",
	"-008": "不合法的發票: the file failed Turnkey's checks and went to ERR",
	"-011": "統編 or file name error",
	"-017": "SFTP error",
	"-018": "SFTP error",
	"-022": "the platform rejected the message",
	"-026": "connection error",
	"-997": "未取得平台處理結果: no answer from the platform",
	"-999": "unknown Turnkey error",
}

var platformCodeText = regexp.MustCompile(`E[0-9]{4}`)

// explain turns a SYSEVENT row's code and messages into a platform code and
// a sentence: the platform code found in the messages if any, else Turnkey's.
func explain(errorCode string, messages []string) (code, text string) {
	joined := strings.TrimSpace(strings.Join(messages, " "))
	if m := platformCodeText.FindString(joined); m != "" {
		if words, ok := platformCodes[m]; ok {
			return m, m + " " + words
		}
		return m, m + " " + joined
	}
	errorCode = strings.TrimSpace(errorCode)
	words := turnkeyCodes[errorCode]
	switch {
	case words != "" && joined != "":
		return errorCode, "Turnkey " + errorCode + " " + words + " (" + joined + ")"
	case words != "":
		return errorCode, "Turnkey " + errorCode + " " + words
	case joined != "":
		return errorCode, "Turnkey " + errorCode + " " + joined
	}
	return errorCode, "Turnkey reported an error without details"
}
