package ecpay

import (
	"context"
	"fmt"
	"strings"

	"github.com/posagent/posagent"
)

var _ posagent.Reconciler = (*Client)(nil)

// Holdings implements posagent.Reconciler with GetIssue (§7.5): one query per
// invoice, shared by the refs of that invoice in the batch. ECPay has no
// query for one allowance; its answer carries the invoice's amount left
// after allowances (IIS_Remain_Allowance_Amt), from which an allowance (or
// its void) is known to have landed or not by comparing it with what
// posagent expects (DocRef.Remaining). Where the difference cannot be pinned
// on the one allowance asked about, the allowance is taken as held (never
// sent twice: ECPay's Allowance is not idempotent) and the difference shows
// as Remaining for a person to look at.
func (c *Client) Holdings(ctx context.Context, refs []posagent.DocRef) ([]posagent.Holding, error) {
	type answer struct {
		info  IssueInfo
		found bool
	}
	asked := map[string]answer{}
	out := make([]posagent.Holding, len(refs))
	for i, ref := range refs {
		key := string(ref.Number)
		got, ok := asked[key]
		if !ok {
			var relate string
			if ref.SaleID != "" {
				relate = RelateNumber(ref.SaleID)
			}
			info, err := c.GetIssue(ctx, ref.Number, ref.IssuedAt, relate)
			switch {
			case err == nil:
				got = answer{info: info, found: strings.TrimSpace(string(info.Number)) == string(ref.Number)}
			case posagent.ErrorKind(err) == posagent.KindNotFound:
				got = answer{}
			default:
				return nil, fmt.Errorf("ecpay: ask what it holds of %s: %w", ref.Number, err)
			}
			asked[key] = got
		}
		out[i] = holding(ref, got.info, got.found)
	}
	return out, nil
}

// holding reads GetIssue's answer about one document.
func holding(ref posagent.DocRef, info IssueInfo, found bool) posagent.Holding {
	h := posagent.Holding{Ref: ref}
	if !found {
		h.Detail = "GetIssue: not found"
		return h
	}
	voided := strings.TrimSpace(string(info.InvalidStatus)) == "1"
	remaining := int64(info.RemainAmount)
	h.Remaining, h.HasRemaining = remaining, true
	h.Detail = fmt.Sprintf("IIS_Invalid_Status=%s IIS_Upload_Status=%s IIS_Turnkey_Status=%s IIS_Remain_Allowance_Amt=%d",
		orDash(info.InvalidStatus), orDash(info.UploadStatus), orDash(info.TurnkeyStatus), remaining)
	switch ref.Kind {
	case posagent.DocInvoice:
		h.Found = true
		h.Amount, h.HasAmount = int64(info.SalesAmount), true
		h.Acceptance = acceptance(info)
	case posagent.DocVoid:
		h.Found = voided
		// [U] Whether IIS_Turnkey_Status follows the void (F0501) or stays
		// the invoice's (F0401) is not documented: a void's verdict is not
		// read from it.
		h.HasRemaining = false
	case posagent.DocAllowance:
		// Missing exactly this allowance: ECPay holds its amount more.
		h.Found = remaining-ref.Remaining != ref.Amount || ref.Amount == 0
		h.Amount, h.HasAmount = ref.Amount, true
	case posagent.DocAllowanceVoid:
		// The void did not land: ECPay still subtracts the allowance.
		h.Found = ref.Remaining-remaining != ref.Amount || ref.Amount == 0
	}
	return h
}

// acceptance reads the platform's verdict. IIS_Turnkey_Status C/E/G/P when
// ECPay gives it; without it, IIS_Upload_Status "0" (not yet sent to the
// platform) is pending and anything else cannot be told. [U] both readings:
// the codes are from ECPay's 查詢發票明細 page, not its API reference.
func acceptance(info IssueInfo) posagent.Acceptance {
	switch strings.ToUpper(strings.TrimSpace(string(info.TurnkeyStatus))) {
	case "C":
		return posagent.AcceptAccepted
	case "E":
		return posagent.AcceptRejected
	case "G", "P":
		return posagent.AcceptPending
	case "":
		if strings.TrimSpace(string(info.UploadStatus)) == "0" {
			return posagent.AcceptPending
		}
	}
	return posagent.AcceptUnknown
}

func orDash(s Str) string {
	if v := strings.TrimSpace(string(s)); v != "" {
		return v
	}
	return "-"
}
