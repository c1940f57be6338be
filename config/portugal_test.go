package config_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent/config"
)

const ptAPIKey = "ix-key-0123456789abcdef"

func TestPortugalExampleParses(t *testing.T) {
	t.Setenv("INVOICEXPRESS_API_KEY", ptAPIKey)
	cfg, err := config.Parse([]byte(config.ExamplePT("tok-0123456789abcdef")))
	require.NoError(t, err)
	require.True(t, cfg.IsPortugal())
	require.Equal(t, "invoice_receipts", cfg.Portugal.DocumentType)
	require.Equal(t, "PT", cfg.Portugal.Region)
	require.Equal(t, "refuse", cfg.Portugal.InvalidNIF)
	require.Equal(t, ptAPIKey, cfg.Portugal.InvoiceXpress.APIKey.Reveal())
	require.Equal(t, "pt-58mm", cfg.Printer.Profile)
	// Nothing Taiwanese is asked of a Portuguese till.
	require.Empty(t, cfg.Terminal.SellerTaxID)
	require.True(t, cfg.QR.Key.IsZero())
	// The example's shop and account are refused by `posagent run`.
	left := cfg.ExampleLeftovers()
	require.Len(t, left, 2)
	require.Contains(t, left[0], "portugal.seller.name")
	require.Contains(t, left[1], "portugal.invoicexpress.account")
	doc, err := config.ExampleFor("invoicexpress", "tok")
	require.NoError(t, err)
	require.Contains(t, doc, `regime     = "pt"`)
}

func TestPortugalErrorsNameTheField(t *testing.T) {
	for _, tc := range []struct {
		name, old, new, field string
	}{
		{"unknown regime", `regime     = "pt"`, `regime = "es"`, "terminal.regime"},
		{"bad seller NIF", `nif     = "508025338"`, `nif = "508025330"`, "portugal.seller.nif"},
		{"final consumer as seller", `nif     = "508025338"`, `nif = "999999990"`, "portugal.seller.nif"},
		{"no seller name", `name    = "Loja Exemplo, Lda."`, `name = " "`, "portugal.seller.name"},
		{"no address", `address = "Rua do Exemplo 1, 1000-001 Lisboa"`, `address = ""`, "portugal.seller.address"},
		{"bad account", `account  = "exemplo"`, `account = "Exemplo.pt"`, "portugal.invoicexpress.account"},
		{"no api key", `api_key  = "${INVOICEXPRESS_API_KEY}"`, `api_key = ""`, "portugal.invoicexpress.api_key"},
		{"plain http", `base_url = ""`, `base_url = "http://ix.example.com"`, "portugal.invoicexpress.base_url"},
		{"bad type", `document_type = "invoice_receipts"`, `document_type = "credit_notes"`, "portugal.document_type"},
		{"bad region", `region        = "PT"`, `region = "ES"`, "portugal.region"},
		{"no certification", `certification = "Processado por programa certificado n.º 0000/AT"`, `certification = ""`, "portugal.certification"},
		{"bad NIF policy", `invalid_nif   = "refuse"`, `invalid_nif = "ignore"`, "portugal.invalid_nif"},
		{"tax refresh too often", `tax_refresh   = "1h"`, `tax_refresh = "1s"`, "portugal.tax_refresh"},
		{"Taiwanese profile", `profile   = "pt-58mm"`, `profile = "58mm"`, "printer.profile"},
		{"unknown key", `drafts_only   = false`, `drafts_onli = false`, "portugal.drafts_onli"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("INVOICEXPRESS_API_KEY", ptAPIKey)
			doc := config.ExamplePT("tok-0123456789abcdef")
			require.Contains(t, doc, tc.old)
			_, err := config.Parse([]byte(strings.Replace(doc, tc.old, tc.new, 1)))
			require.Error(t, err)
			var fe *config.FieldError
			require.True(t, errors.As(err, &fe), "%v", err)
			require.Equal(t, tc.field, fe.Field, "%v", err)
			require.NotContains(t, err.Error(), ptAPIKey)
		})
	}
}
