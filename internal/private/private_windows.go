package private

import (
	"fmt"
	"strings"
	"unsafe"

	"golang.org/x/sys/windows"
)

// restrict replaces path's access-control list with a protected one (no
// inheritance from the parent): full control for SYSTEM, Administrators and
// the current user, inherited by files and folders created inside.
func restrict(path string) error {
	user, err := currentUser()
	if err != nil {
		return fmt.Errorf("restrict %s: %w", path, err)
	}
	return setDACL(path, privateSDDL(user.String()))
}

func restrictToSystem(path string) error { return setDACL(path, privateSDDL(systemSID)) }

// systemSID is LocalSystem's, the service's account.
const systemSID = "S-1-5-18"

func setDACL(path, sddl string) error {
	sd, err := windows.SecurityDescriptorFromString(sddl)
	if err != nil {
		return fmt.Errorf("restrict %s: %w", path, err)
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		return fmt.Errorf("restrict %s: %w", path, err)
	}
	err = windows.SetNamedSecurityInfo(path, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, dacl, nil)
	if err != nil {
		return fmt.Errorf("restrict %s: set access-control list: %w", path, err)
	}
	return nil
}

// privateSDDL is the access-control list restrict applies, in SDDL: P
// protects it from the parent's entries, OICI passes each entry on to files
// and folders created inside, FA is full access; SY is SYSTEM, BA the
// Administrators group.
func privateSDDL(userSID string) string {
	d := "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)"
	if userSID != systemSID { // the service itself runs as SYSTEM
		d += "(A;OICI;FA;;;" + userSID + ")"
	}
	return d
}

func currentUser() (*windows.SID, error) {
	tu, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return nil, fmt.Errorf("read the current user: %w", err)
	}
	return tu.User.Sid, nil
}

// readMask is any right that lets an account read the file's contents.
const readMask = windows.FILE_READ_DATA | windows.GENERIC_READ | windows.GENERIC_ALL

// exposed lists the accounts besides SYSTEM, Administrators, the current
// user and the file's owner that an allowing entry lets read path.
func exposed(path string) (string, error) {
	sd, err := windows.GetNamedSecurityInfo(path, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.OWNER_SECURITY_INFORMATION)
	if err != nil {
		return "", fmt.Errorf("read the access-control list of %s: %w", path, err)
	}
	dacl, _, err := sd.DACL()
	if err != nil || dacl == nil {
		// No list at all grants everyone everything.
		return "it has no access-control list: everyone may read it", nil
	}
	owner, _, _ := sd.Owner()
	user, _ := currentUser()
	var others []string
	for i := uint32(0); i < uint32(dacl.AceCount); i++ {
		var ace *windows.ACCESS_ALLOWED_ACE
		if err := windows.GetAce(dacl, i, &ace); err != nil {
			return "", fmt.Errorf("read the access-control list of %s: %w", path, err)
		}
		if ace.Header.AceType != windows.ACCESS_ALLOWED_ACE_TYPE || ace.Mask&readMask == 0 {
			continue
		}
		if ace.Header.AceFlags&windows.INHERIT_ONLY_ACE != 0 {
			continue
		}
		sid := (*windows.SID)(unsafe.Pointer(&ace.SidStart))
		switch {
		case sid.IsWellKnown(windows.WinLocalSystemSid), sid.IsWellKnown(windows.WinBuiltinAdministratorsSid),
			sid.IsWellKnown(windows.WinCreatorOwnerSid),
			owner != nil && sid.Equals(owner), user != nil && sid.Equals(user):
			continue
		}
		others = append(others, accountName(sid))
	}
	if len(others) == 0 {
		return "", nil
	}
	return strings.Join(others, ", ") + " may read it", nil
}

func accountName(sid *windows.SID) string {
	account, domain, _, err := sid.LookupAccount("")
	if err != nil {
		return sid.String()
	}
	if domain != "" {
		return domain + `\` + account
	}
	return account
}

const hint = `let only SYSTEM and Administrators read it: icacls FILE /inheritance:r /grant:r SYSTEM:F Administrators:F`

func wine() bool {
	return windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil
}
