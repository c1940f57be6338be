package config_test

import (
	"testing"

	"github.com/posagent/posagent/config"
	"github.com/stretchr/testify/require"
)

func TestPrinterCode39(t *testing.T) {
	for _, tc := range []struct {
		value string
		ok    bool
	}{{"", true}, {"raster", true}, {"native", true}, {"Raster", false}, {"bars", false}} {
		cfg := config.DefaultConfig()
		cfg.Terminal = config.Terminal{SellerTaxID: "53212539", SellerName: "好日子", MachineID: "POS01"}
		cfg.QR.Key = testQRKey
		cfg.Provider.Name = "fake"
		cfg.API.Token = "tok-0123456789abcdef"
		cfg.Printer.Code39 = tc.value
		err := cfg.Validate()
		if tc.ok {
			require.NoError(t, err, tc.value)
			continue
		}
		var fe *config.FieldError
		require.ErrorAs(t, err, &fe, tc.value)
		require.Equal(t, "printer.code39", fe.Field)
	}
}
