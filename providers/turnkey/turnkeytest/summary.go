package turnkeytest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/posagent/posagent"
)

// RejectNext makes the platform answer the next message of msgType with
// code (an E#### such as E0103) instead of judging it.
func (s *Server) RejectNext(msgType, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejects[msgType] = append(s.rejects[msgType], code)
}

// MiscountSummary makes the day reports written from now on count delta more
// (or fewer) messages of msgType than the platform received, Total and Good
// alike: a report that disagrees with what posagent sent.
func (s *Server) MiscountSummary(msgType string, delta int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.miscount[msgType] = delta
}

// Forget deletes every row of the message with identifier from Turnkey's
// tables and the platform's memory, as if Turnkey had lost it after taking
// the file. It returns how many rows went.
func (s *Server) Forget(ctx context.Context, identifier string) (int, error) {
	s.mu.Lock()
	var keep, gone []*row
	for _, r := range s.rows {
		if r.info.Identifier == identifier {
			gone = append(gone, r)
		} else {
			keep = append(keep, r)
		}
	}
	s.rows = keep
	for _, r := range gone {
		switch r.msgType {
		case "F0401":
			delete(s.invoices, r.info.Invoice)
		case "F0501":
			if inv := s.invoices[r.info.Invoice]; inv != nil {
				inv.voided = false
			}
		case "G0401":
			delete(s.allowances, r.info.Allowance)
		case "G0501":
			if s.allowances[r.info.Allowance] == "voided" {
				s.allowances[r.info.Allowance] = "C"
			}
		}
	}
	s.mu.Unlock()
	for _, r := range gone {
		for _, stmt := range []string{`DELETE FROM TURNKEY_MESSAGE_LOG WHERE SEQNO = ? AND SUBSEQNO = ?`,
			`DELETE FROM TURNKEY_MESSAGE_LOG_DETAIL WHERE SEQNO = ? AND SUBSEQNO = ?`,
			`DELETE FROM TURNKEY_SYSEVENT_LOG WHERE SEQNO = ? AND SUBSEQNO = ?`} {
			if _, err := s.admin.ExecContext(ctx, stmt, r.seq, r.sub); err != nil {
				return 0, err
			}
		}
	}
	return len(gone), nil
}

// The SummaryResult as the stand-in writes it: the shape of the XSD
// (turnkey.md §2.3), items spelt Invocie as the XSD spells them.
type summaryXML struct {
	XMLName     xml.Name `xml:"urn:GEINV:SummaryResult:4.0 SummaryResult"`
	RoutingInfo struct {
		From struct {
			PartyID string `xml:"PartyId"`
		} `xml:"From"`
		To struct {
			PartyID string `xml:"PartyId"`
		} `xml:"To"`
	} `xml:"RoutingInfo"`
	Messages []summaryMessageXML `xml:"DetailList>Message"`
}

type summaryMessageXML struct {
	Info struct {
		ID          string `xml:"Id"`
		MessageType string `xml:"MessageType"`
	} `xml:"Info"`
	Result struct {
		Total  summaryCountXML `xml:"Total"`
		Good   summaryCountXML `xml:"Good"`
		Failed summaryCountXML `xml:"Failed"`
	} `xml:"Result"`
}

type summaryCountXML struct {
	Count    int              `xml:"Count"`
	Invoices []summaryItemXML `xml:"Invoices>Invocie"`
}

type summaryItemXML struct {
	ReferenceNumber string `xml:"ReferenceNumber"`
	InvoiceDate     string `xml:"InvoiceDate"`
}

// WriteSummaryResult writes the platform's report of day (Taipei) as
// Turnkey files it: one file per seller under
// <Unpack>/BAK/SummaryResult/<the next day>/01/, one Message per message
// type (the stand-in packs a type's messages of a day in one pack), counting
// the messages the platform answered (C good, E failed; files Turnkey put in
// ERR never reached it). It returns the files written.
func (s *Server) WriteSummaryResult(day time.Time) ([]string, error) {
	day = day.In(posagent.Taipei)
	ymd := day.Format("20060102")
	s.mu.Lock()
	type pack struct {
		first time.Time
		msg   summaryMessageXML
	}
	bySeller := map[string]map[string]*pack{}
	for _, r := range s.rows {
		if r.local || r.code == "" || r.taken.In(posagent.Taipei).Format("20060102") != ymd {
			continue
		}
		packs := bySeller[r.info.SellerID]
		if packs == nil {
			packs = map[string]*pack{}
			bySeller[r.info.SellerID] = packs
		}
		pk := packs[r.msgType]
		if pk == nil {
			pk = &pack{first: r.taken}
			pk.msg.Info.MessageType = r.msgType
			packs[r.msgType] = pk
		}
		ref := r.info.Invoice
		if strings.HasPrefix(r.msgType, "G") {
			ref = r.info.Allowance
		}
		item := summaryItemXML{ReferenceNumber: ref, InvoiceDate: r.info.Identifier[max(0, len(r.info.Identifier)-8):]}
		res := &pk.msg.Result
		res.Total.Count++
		res.Total.Invoices = append(res.Total.Invoices, item)
		if r.code == "00000" {
			res.Good.Count++
			res.Good.Invoices = append(res.Good.Invoices, item)
		} else {
			res.Failed.Count++
			res.Failed.Invoices = append(res.Failed.Invoices, item)
		}
	}
	miscount := map[string]int{}
	for k, v := range s.miscount {
		miscount[k] = v
	}
	s.mu.Unlock()
	dir := filepath.Join(s.UnpackRoot(), "BAK", "SummaryResult", day.AddDate(0, 0, 1).Format("20060102"), "01")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	sellers := make([]string, 0, len(bySeller))
	for seller := range bySeller {
		sellers = append(sellers, seller)
	}
	sort.Strings(sellers)
	var files []string
	for _, seller := range sellers {
		var doc summaryXML
		doc.RoutingInfo.From.PartyID, doc.RoutingInfo.To.PartyID = seller, "00000000"
		types := make([]string, 0, len(bySeller[seller]))
		for t := range bySeller[seller] {
			types = append(types, t)
		}
		sort.Strings(types)
		for _, t := range types {
			pk := bySeller[seller][t]
			// The pack's name is the same in every report of the day, so a
			// later report of it replaces an earlier one.
			sum := sha256.Sum256([]byte(seller + "/" + t + "/" + ymd))
			pk.msg.Info.ID = fmt.Sprintf("v41-%s-%s-%s-%s", t, ymd, pk.first.In(posagent.Taipei).Format("150405")+
				fmt.Sprintf("%03d", pk.first.Nanosecond()/1e6), hex.EncodeToString(sum[:16]))
			pk.msg.Result.Total.Count += miscount[t]
			pk.msg.Result.Good.Count += miscount[t]
			doc.Messages = append(doc.Messages, pk.msg)
		}
		out, err := xml.MarshalIndent(doc, "", "  ")
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		s.reports++
		n := s.reports
		s.mu.Unlock()
		path := filepath.Join(dir, fmt.Sprintf("SummaryResult_%s_%s_%06d.xml", seller, ymd, n))
		if err := os.WriteFile(path, append([]byte(xml.Header), out...), 0o644); err != nil {
			return nil, err
		}
		files = append(files, path)
	}
	return files, nil
}
