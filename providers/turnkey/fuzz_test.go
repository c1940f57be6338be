package turnkey_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/posagent/posagent/providers/turnkey"
)

// FuzzParseSummaryResult: the lenient SummaryResult reader never panics, and
// what it accepts has counts within bounds and an Id for every message.
func FuzzParseSummaryResult(f *testing.F) {
	for _, name := range []string{"xsd.xml", "ho600.xml", "items-only.xml"} {
		data, err := os.ReadFile(filepath.Join("testdata", "summary", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{"", "<SummaryResult/>", "<ProcessResult/>", "<SummaryResult><DetailList><Message/></DetailList></SummaryResult>",
		"<SummaryResult><DetailList><Message><Info><Id>v41-F0401-20250230-1-x</Id></Info><Result><Total>-</Total></Result></Message></DetailList></SummaryResult>",
		"\xEF\xBB\xBF<SummaryResult><DetailList><Message><Info><Id>a</Id></Info><ResultType><Good><ResultDetailType><Count>1</Count></ResultDetailType></Good></ResultType></Message></DetailList></SummaryResult>"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sr, err := turnkey.ParseSummaryResult(data)
		if err != nil {
			return
		}
		for _, m := range sr.Messages {
			if m.ID == "" {
				t.Fatal("a message without an Id was accepted")
			}
			for _, c := range []turnkey.SummaryCount{m.Total, m.Good, m.Failed} {
				if c.Count < 0 || c.Count > 10_000_000 {
					t.Fatalf("count %d accepted", c.Count)
				}
			}
		}
	})
}
