package console

import "fmt"

// messages holds every word of the console: Traditional Chinese first, then
// English. A key missing from a language falls back to the other, then to
// the key itself (a test checks that none is missing).
var messages = map[string][2]string{
	"nav.overview": {"總覽", "Overview"},
	"nav.invoices": {"發票", "Invoices"},
	"nav.jobs":     {"上傳工作", "Jobs"},
	"nav.booklets": {"字軌號碼", "Booklets"},
	"nav.summary":  {"日報表", "Daily summary"},
	"nav.signout":  {"登出", "Sign out"},
	"back":         {"返回", "Back"},

	"login.title":            {"登入 posagent 管理頁", "Sign in to posagent"},
	"login.secret":           {"API 權杖 (api.token)", "API token (api.token)"},
	"login.secretOrPassword": {"管理密碼或 API 權杖", "Console password or API token"},
	"login.submit":           {"登入", "Sign in"},
	"login.wrong":            {"密碼或權杖錯誤。", "Wrong password or token."},
	"login.throttled":        {"錯誤次數太多，請五分鐘後再試。", "Too many wrong attempts; try again in five minutes."},
	"login.expired":          {"閒置太久，已自動登出，請重新登入。", "You were signed out after a while without activity; sign in again."},
	"login.hint":             {"權杖在設定檔 [api] token；示範模式（make run）寫在 var/posagent.toml。", "The token is [api] token in the config file; the demo (make run) writes it to var/posagent.toml."},

	"err.title":    {"無法完成", "Could not do that"},
	"err.csrf":     {"表單已過期或不是從本頁送出，請重新整理後再試。", "The form is stale or did not come from this page; reload and try again."},
	"err.signin":   {"請先登入（可能已閒置過久而登出）。", "Sign in first (you may have been signed out after a while without activity)."},
	"err.notfound": {"找不到這一頁。", "There is no such page."},
	"err.internal": {"系統錯誤，詳情在 posagent 的記錄檔。", "Internal error; the agent's log has the details."},
	"err.required": {"必填", "is required"},
	"err.amount":   {"必須是大於 0 的整數金額（新台幣元）", "must be a whole NT$ amount above 0"},
	"err.jobid":    {"工作編號必須是正整數", "a job id is a positive whole number"},

	"confirm.title":         {"請確認", "Please confirm"},
	"confirm.yes":           {"確定", "Yes, do it"},
	"confirm.no":            {"取消", "Cancel"},
	"confirm.reprint":       {"補印發票 %s 的證明聯？紙上會印「補印」。", "Reprint the proof of invoice %s? It will say 補印 (reprint)."},
	"confirm.void":          {"作廢發票 %s，原因「%s」？作廢後無法復原。", "Void invoice %s because “%s”? This cannot be undone."},
	"confirm.allowance":     {"對發票 %s 開立折讓「%s」%s？", "Make an allowance on invoice %s for “%s”, %s?"},
	"confirm.voidAllowance": {"作廢折讓 %s，原因「%s」？", "Void allowance %s because “%s”?"},
	"confirm.revive":        {"把工作 #%d 放回上傳佇列重試？請先確定問題已解決。", "Put job #%d back in the queue? Make sure its cause is fixed first."},
	"confirm.resume":        {"恢復上傳？請先確定已在加值中心處理好（例如商店已開通）。若仍被拒，會再次暫停。", "Resume uploads? Make sure it was fixed at the provider (the merchant enabled, say). If it is still refused, it pauses again."},
	"confirm.reload":        {"重新讀取設定檔？設定有誤時不會套用任何變更。", "Read the config file again? A file with an error changes nothing."},
	"confirm.resolve":       {"將工作 #%d 標示為已人工處理，說明「%s」？posagent 不會再送出它。", "Mark job #%d as settled by hand, noting “%s”? posagent will not send it."},

	"flash.reprinted":       {"已補印發票 %s（證明聯印有「補印」）。", "Reprinted invoice %s (the proof says 補印)."},
	"flash.reprintPending":  {"發票 %s 的補印尚未印出：%s；印表機恢復後會自動印。", "The reprint of invoice %s did not print yet: %s; it prints when the printer is back."},
	"flash.voided":          {"發票 %s 已作廢，作廢資料會上傳。", "Invoice %s is voided; the void will be uploaded."},
	"flash.allowance":       {"已開立折讓 %s，%s。", "Allowance %s made, %s."},
	"flash.allowanceVoided": {"折讓 %s 已作廢。", "Allowance %s is voided."},
	"flash.revived":         {"工作 #%d 已放回佇列。", "Job #%d is back in the queue."},
	"flash.resumed":         {"已恢復上傳到 %s，佇列開始送出。", "Uploads to %s resumed; the queue drains now."},
	"flash.notPaused":       {"%s 沒有暫停。", "%s was not paused."},
	"flash.reloaded":        {"已重新讀取設定（變更：%s），暫停已解除。", "Configuration reloaded (changed: %s); any pause is over."},
	"flash.resolved":        {"工作 #%d 已標示為人工處理。", "Job #%d is marked as settled by hand."},
	"flash.booklet":         {"已加入號碼 %s（期別 %s）。", "Added range %s (period %s)."},

	"demo.title":      {"示範模式", "Demo"},
	"demo.down":       {"關閉加值中心（模擬斷線）", "Switch the provider off"},
	"demo.up":         {"恢復加值中心", "Switch the provider back on"},
	"demo.hint":       {"只在示範模式（make run）出現：模擬加值中心斷線，看警示出現、發票排隊，恢復後自動補傳。", "Only in the demo (make run): take the provider stand-in away, watch the alarm and the queue, then bring it back and see the queue drain."},
	"flash.demo.down": {"加值中心已關閉（模擬）；銷售照常，發票排隊等待上傳。", "The provider stand-in is off; sales go on and queue up."},
	"flash.demo.up":   {"加值中心已恢復；排隊的發票馬上補傳。", "The provider stand-in is back; the queue drains now."},

	"level.critical": {"緊急", "critical"},
	"level.warning":  {"警告", "warning"},
	"level.info":     {"通知", "info"},
	"level.ok":       {"正常", "ok"},

	"alarm.upload_deadline":   {"發票上傳快到期限（48 小時）", "Upload deadline (48 h) is near"},
	"alarm.dead_jobs":         {"有工作失敗，需要人處理", "Jobs failed and need a person"},
	"alarm.provider_config":   {"加值中心拒絕設定，上傳已暫停", "The provider rejected the set-up; uploads are paused"},
	"alarm.provider_offline":  {"加值中心連不上，銷售照常、稍後補傳", "The provider is unreachable; sales go on and are queued"},
	"alarm.test_platform":     {"發票送往 ECPay 測試平台，不是合法發票", "Invoices go to ECPay's test platform: they are not legal invoices"},
	"alarm.clock":             {"本機時鐘不準", "This terminal's clock is off"},
	"alarm.numbers_exhausted": {"發票號碼用完，無法開立", "No invoice numbers left: sales are refused"},
	"alarm.numbers_low":       {"發票號碼快用完", "Invoice numbers are running low"},
	"alarm.printer":           {"印表機有問題", "Printer problem"},

	"overview.allOK":      {"一切正常", "All is well"},
	"overview.queue":      {"待上傳", "Waiting to go out"},
	"overview.waiting":    {"等待中", "Waiting"},
	"overview.inflight":   {"上傳中", "Being sent"},
	"overview.dead":       {"失敗需處理", "Failed, need a person"},
	"overview.lastUpload": {"上次上傳成功", "Last upload"},
	"overview.oldest":     {"最舊未上傳", "Oldest unsent"},
	"overview.issued":     {"開立於", "made"},
	"overview.deadline":   {"上傳期限", "Upload deadline"},
	"overview.left":       {"（還有 %s）", "(%s left)"},
	"overview.overdue":    {"（已逾期 %s）", "(overdue by %s)"},
	"overview.allSent":    {"全部已上傳。", "Everything is uploaded."},
	"overview.numbers":    {"剩餘發票號碼", "Invoice numbers left"},
	"overview.printer":    {"印表機", "Printer"},
	"overview.provider":   {"電子發票加值中心", "E-invoice provider"},
	"overview.refresh":    {"本頁每 %d 秒自動更新。", "This page refreshes itself every %d seconds."},

	"printer.none":    {"未設定印表機。", "No printer is configured."},
	"printer.unknown": {"尚未取得印表機狀態。", "Printer state not known yet."},
	"printer.ready":   {"正常", "Ready"},
	"printer.pending": {"待列印", "Proofs waiting to print"},

	"provider.online":      {"連線中", "Online"},
	"provider.offline":     {"離線", "Offline"},
	"provider.paused":      {"已暫停（設定被拒）", "Paused (set-up rejected)"},
	"provider.pausedAuth":  {"已暫停（金鑰或帳號被拒）", "Paused (credentials rejected)"},
	"provider.pausedSince": {"暫停自", "Paused since"},
	"provider.action":      {"處理方式", "What to do"},
	"provider.fixed":       {"修正設定檔後按「重新讀取設定」；已在加值中心處理好則按「恢復上傳」。", "Fix the config file, then Reload configuration; if it was fixed at the provider, Resume uploads."},
	"act.resume":           {"恢復上傳", "Resume uploads"},
	"act.reload":           {"重新讀取設定", "Reload configuration"},
	"provider.next":        {"下次嘗試", "Next try"},
	"provider.held":        {"暫停到", "Held until"},
	"provider.lastOK":      {"上次成功", "Last success"},
	"provider.lastError":   {"上次錯誤", "Last error"},

	"invoices.search":   {"發票號碼或銷售編號", "Invoice number or sale id"},
	"invoices.date":     {"日期", "Date"},
	"invoices.find":     {"查詢", "Find"},
	"invoices.today":    {"今天的發票", "Today's invoices"},
	"invoices.none":     {"這一天沒有發票。", "No invoices that day."},
	"invoices.notFound": {"找不到「%s」的發票。", "No invoice for “%s”."},

	"inv.title":         {"發票", "Invoice"},
	"inv.number":        {"發票號碼", "Number"},
	"inv.time":          {"時間", "Time"},
	"inv.sale":          {"銷售編號", "Sale id"},
	"inv.total":         {"總計", "Total"},
	"inv.tax":           {"稅額", "tax"},
	"inv.remaining":     {"折讓後餘額", "Left after allowances"},
	"inv.upload":        {"上傳", "Upload"},
	"inv.print":         {"列印", "Print"},
	"inv.period":        {"期別", "Period"},
	"inv.random":        {"隨機碼", "Random code"},
	"inv.buyer":         {"買方統編", "Buyer tax id"},
	"inv.carrier":       {"載具", "Carrier"},
	"inv.donated":       {"捐贈碼", "Donated to"},
	"inv.voided":        {"已作廢", "voided"},
	"inv.voidedAt":      {"作廢", "Voided"},
	"inv.hasAllowances": {"有折讓", "allowances"},
	"inv.nextIsReprint": {"再印即為補印", "any further print is 補印"},
	"inv.item":          {"品名", "Item"},
	"inv.qty":           {"數量", "Qty"},
	"inv.price":         {"單價", "Unit price"},
	"inv.amount":        {"金額", "Amount"},
	"inv.proof":         {"證明聯", "Proof"},
	"inv.proofAlt":      {"發票證明聯", "Proof of invoice"},
	"inv.proofNote":     {"由印表機模擬器依實際送出的列印資料畫出。", "Drawn by the printer emulator from the bytes the printer would get."},
	"inv.actions":       {"操作", "Actions"},
	"inv.noActions":     {"這張發票沒有可做的操作。", "Nothing can be done to this invoice."},
	"inv.allowances":    {"折讓", "Allowances"},
	"inv.allowance":     {"折讓單號", "Allowance"},
	"inv.events":        {"歷程", "History"},

	"act.reprint":       {"補印", "Reprint (補印)"},
	"act.void":          {"作廢", "Void"},
	"act.voidReason":    {"作廢原因", "Reason"},
	"act.allowance":     {"開立折讓", "Make allowance"},
	"act.allowItem":     {"折讓品名", "Item"},
	"act.allowAmount":   {"折讓金額（元）", "Amount (NT$)"},
	"act.allowReason":   {"原因", "Reason"},
	"act.voidAllowance": {"作廢折讓", "Void allowance"},
	"act.revive":        {"重新送出", "Revive"},
	"act.resolve":       {"已人工處理", "Resolve"},
	"act.resolveNote":   {"處理說明", "What was done"},

	"state.pending":    {"等待中", "waiting"},
	"state.claimed":    {"傳送中", "being sent"},
	"state.done":       {"已完成", "done"},
	"state.dead":       {"失敗", "failed"},
	"state.printed":    {"已列印", "printed"},
	"state.failed":     {"列印失敗", "print failed"},
	"state.not_needed": {"不需列印", "not printed"},
	"state.printing":   {"列印中", "printing"},

	"kind.upload":         {"發票上傳", "invoice upload"},
	"kind.void":           {"作廢上傳", "void"},
	"kind.allowance":      {"折讓上傳", "allowance"},
	"kind.allowance_void": {"折讓作廢上傳", "allowance void"},
	"kind.blank":          {"空白號碼申報", "blank-number report"},

	"event.issued":           {"開立", "issued"},
	"event.print_started":    {"開始列印", "print started"},
	"event.printed":          {"已列印", "printed"},
	"event.print_failed":     {"列印失敗", "print failed"},
	"event.uploaded":         {"已上傳", "uploaded"},
	"event.voided":           {"作廢", "voided"},
	"event.allowance":        {"折讓", "allowance"},
	"event.allowance_voided": {"折讓作廢", "allowance voided"},
	"event.failed":           {"上傳失敗，將重試", "attempt failed, will retry"},
	"event.dead":             {"上傳失敗，需人處理", "failed for good"},
	"event.revived":          {"重新送出", "revived"},
	"event.resolved":         {"人工處理", "resolved by hand"},

	"jobs.dead":        {"失敗、需要人處理", "Failed, need a person"},
	"jobs.noDead":      {"沒有失敗的工作。", "No failed jobs."},
	"jobs.waiting":     {"等待上傳", "Waiting"},
	"jobs.noneWaiting": {"沒有等待中的工作。", "Nothing is waiting."},
	"jobs.kind":        {"種類", "Kind"},
	"jobs.state":       {"狀態", "State"},
	"jobs.attempts":    {"嘗試次數", "attempts"},
	"jobs.next":        {"下次嘗試", "Next try"},
	"jobs.error":       {"錯誤訊息", "error"},
	"jobs.since":       {"建立於", "since"},
	"jobs.blankRange":  {"空白號碼", "Blank numbers"},

	"why.refused":           {"加值中心拒收這份資料（資料有誤或與平台狀態衝突），重試也不會成功。請依錯誤訊息修正後按「重新送出」，或在平台上處理後按「已人工處理」並寫下說明。", "The provider refused this document (wrong data, or a conflict with what it holds); retrying alone will not help. Fix the cause the error names and revive it, or settle it on the platform and resolve it with a note."},
	"why.gaveUp":            {"連續 %d 次都沒送成功，已停止自動重試。確認網路與加值中心正常後按「重新送出」。", "It failed %d times in a row and automatic retries stopped. Check the network and the provider, then revive it."},
	"why.noAllowanceNumber": {"加值中心沒有回傳折讓單號，posagent 無法替您作廢。請到加值中心後台作廢此折讓，再按「已人工處理」。", "The provider did not return the allowance number, so posagent cannot void it. Void it in the provider's back office, then resolve it here."},
	"why.blank":             {"這個加值中心不收空白號碼申報。請在期限前到財政部電子發票整合服務平台申報下列空白號碼，再按「已人工處理」。", "This provider does not take blank-number reports. Report the ranges below on the MOF e-invoice platform before the deadline, then resolve it here."},

	"booklets.add":          {"加入號碼區間", "Add a range"},
	"booklets.addButton":    {"加入", "Add"},
	"booklets.addHint":      {"從財政部電子發票整合服務平台或總部取得的號碼，每本 50 號。", "Numbers from the MOF e-invoice platform or the head office, in booklets of 50."},
	"booklets.range":        {"號碼區間", "Range"},
	"booklets.period":       {"期別", "Period"},
	"booklets.source":       {"來源", "Source"},
	"booklets.left":         {"剩餘", "Left"},
	"booklets.unused":       {"未使用", "Unused"},
	"booklets.retired":      {"已結束", "closed"},
	"booklets.held":         {"持有的號碼", "Ranges held"},
	"booklets.none":         {"沒有號碼。", "No ranges."},
	"booklets.blank":        {"空白號碼申報", "Blank numbers to report"},
	"booklets.atEnd":        {"%s：若現在結束，將申報 %d 個空白號碼（%s 前）", "%s: if the period ended now, %d numbers would be reported blank (by %s)"},
	"booklets.closed":       {"已結束期別的空白號碼", "Closed periods"},
	"booklets.unusedBy":     {"%d 個空白號碼，%s 前申報", "%d blank numbers, report by %s"},
	"booklets.nothingBlank": {"沒有要申報的空白號碼。", "Nothing to report blank."},

	"summary.title":          {"日報表", "Daily summary"},
	"summary.show":           {"顯示", "Show"},
	"summary.csv":            {"下載 CSV", "Save as CSV"},
	"summary.csvDetail":      {"下載明細 CSV", "Save documents as CSV"},
	"summary.printHint":      {"要列印請用瀏覽器的列印（Ctrl+P）。", "To print, use the browser's Print (Ctrl+P)."},
	"summary.issued":         {"開立（張／金額）", "Issued (count / NT$)"},
	"summary.voided":         {"作廢", "Voided"},
	"summary.allowances":     {"折讓", "Allowances"},
	"summary.allowanceVoids": {"折讓作廢", "Allowance voids"},
	"summary.net":            {"淨額", "Net"},
	"summary.total":          {"合計", "Total"},
	"summary.none":           {"這一天沒有交易。", "Nothing happened that day."},
	"summary.documents":      {"明細", "Documents"},
	"summary.kind":           {"種類", "Kind"},
	"summary.ref":            {"參考", "Reference"},
	"summary.reason":         {"原因", "Reason"},

	"line.issued":           {"開立", "issued"},
	"line.voided":           {"作廢", "voided"},
	"line.allowance":        {"折讓", "allowance"},
	"line.allowance_voided": {"折讓作廢", "allowance voided"},
}

func lookup(lang, key string) (string, bool) {
	m, ok := messages[key]
	if !ok {
		return "", false
	}
	i := 0
	if lang == "en" {
		i = 1
	}
	if m[i] == "" {
		return m[1-i], true
	}
	return m[i], true
}

func tr(lang, key string) string {
	if s, ok := lookup(lang, key); ok {
		return s
	}
	return key
}

func tf(lang, key string, args ...any) string { return fmt.Sprintf(tr(lang, key), args...) }
