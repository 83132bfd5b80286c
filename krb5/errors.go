package krb5

import (
	"fmt"
	"time"
)

// DefaultClockSkew is MIT's default clockskew: the tolerated difference
// between clocks when ticket and authenticator times are checked.
const DefaultClockSkew = 300 * time.Second

// ErrorCode is a Kerberos protocol error code, the error-code field of a
// KRB-ERROR (RFC 4120 section 7.5.9). Its Error method returns the text MIT
// krb5 prints for the code, so that messages match what administrators
// already see from MIT tools. ErrorCode values are comparable and are used
// as sentinels: errors.Is(err, krb5.ErrBadIntegrity).
type ErrorCode int32

// Protocol error codes the module produces or interprets.
const (
	ErrNone           ErrorCode = 0
	ErrBadPVNO        ErrorCode = 3  // KDC_ERR_BAD_PVNO
	ErrClientUnknown  ErrorCode = 6  // KDC_ERR_C_PRINCIPAL_UNKNOWN
	ErrServerUnknown  ErrorCode = 7  // KDC_ERR_S_PRINCIPAL_UNKNOWN
	ErrEtypeNoSupp    ErrorCode = 14 // KDC_ERR_ETYPE_NOSUPP
	ErrPreauthFailed  ErrorCode = 24 // KDC_ERR_PREAUTH_FAILED
	ErrPreauthNeeded  ErrorCode = 25 // KDC_ERR_PREAUTH_REQUIRED
	ErrSvcUnavailable ErrorCode = 29 // KDC_ERR_SVC_UNAVAILABLE
	ErrBadIntegrity   ErrorCode = 31 // KRB_AP_ERR_BAD_INTEGRITY
	ErrTktExpired     ErrorCode = 32 // KRB_AP_ERR_TKT_EXPIRED
	ErrTktNotYetValid ErrorCode = 33 // KRB_AP_ERR_TKT_NYV
	ErrReplay         ErrorCode = 34 // KRB_AP_ERR_REPEAT
	ErrNotUs          ErrorCode = 35 // KRB_AP_ERR_NOT_US
	ErrBadMatch       ErrorCode = 36 // KRB_AP_ERR_BADMATCH
	ErrSkew           ErrorCode = 37 // KRB_AP_ERR_SKEW
	ErrBadAddr        ErrorCode = 38 // KRB_AP_ERR_BADADDR
	ErrBadVersion     ErrorCode = 39 // KRB_AP_ERR_BADVERSION
	ErrMsgType        ErrorCode = 40 // KRB_AP_ERR_MSG_TYPE
	ErrModified       ErrorCode = 41 // KRB_AP_ERR_MODIFIED
	ErrBadOrder       ErrorCode = 42 // KRB_AP_ERR_BADORDER
	ErrBadKeyVer      ErrorCode = 44 // KRB_AP_ERR_BADKEYVER
	ErrNoKey          ErrorCode = 45 // KRB_AP_ERR_NOKEY
	ErrMutualFail     ErrorCode = 46 // KRB_AP_ERR_MUT_FAIL
	ErrInappCksum     ErrorCode = 50 // KRB_AP_ERR_INAPP_CKSUM
	ErrResponseTooBig ErrorCode = 52 // KRB_ERR_RESPONSE_TOO_BIG
	ErrGeneric        ErrorCode = 60 // KRB_ERR_GENERIC
)

// mitText holds MIT krb5's error_message() text for the protocol codes
// (src/lib/krb5/error_tables/krb5_err.et, codes 0..127).
var mitText = map[ErrorCode]string{
	0:  "No error",
	1:  "Client's entry in database has expired",
	2:  "Server's entry in database has expired",
	3:  "Requested protocol version not supported",
	4:  "Client's key is encrypted in an old master key",
	5:  "Server's key is encrypted in an old master key",
	6:  "Client not found in Kerberos database",
	7:  "Server not found in Kerberos database",
	8:  "Principal has multiple entries in Kerberos database",
	9:  "Client or server has a null key",
	10: "Ticket is ineligible for postdating",
	11: "Requested effective lifetime is negative or too short",
	12: "KDC policy rejects request",
	13: "KDC can't fulfill requested option",
	14: "KDC has no support for encryption type",
	15: "KDC has no support for checksum type",
	16: "KDC has no support for padata type",
	17: "KDC has no support for transited type",
	18: "Client's credentials have been revoked",
	19: "Credentials for server have been revoked",
	20: "TGT has been revoked",
	21: "Client not yet valid - try again later",
	22: "Server not yet valid - try again later",
	23: "Password has expired",
	24: "Preauthentication failed",
	25: "Additional pre-authentication required",
	26: "Requested server and ticket don't match",
	27: "Server principal valid for user2user only",
	28: "KDC policy rejects transited path",
	29: "A service is not available that is required to process the request",
	31: "Decrypt integrity check failed",
	32: "Ticket expired",
	33: "Ticket not yet valid",
	34: "Request is a replay",
	35: "The ticket isn't for us",
	36: "Ticket/authenticator don't match",
	37: "Clock skew too great",
	38: "Incorrect net address",
	39: "Protocol version mismatch",
	40: "Invalid message type",
	41: "Message stream modified",
	42: "Message out of order",
	43: "Illegal cross-realm ticket",
	44: "Key version is not available",
	45: "Service key not available",
	46: "Mutual authentication failed",
	47: "Incorrect message direction",
	48: "Alternative authentication method required",
	49: "Incorrect sequence number in message",
	50: "Inappropriate type of checksum in message",
	51: "Policy rejects transited path",
	52: "Response too big for UDP, retry with TCP",
	60: "Generic error (see e-text)",
	61: "Field is too long for this implementation",
	68: "Realm not local to KDC",
}

// Error returns MIT's message for the code ("KRB5 error code N" when MIT
// has no specific text).
func (c ErrorCode) Error() string {
	if s, ok := mitText[c]; ok {
		return s
	}
	return fmt.Sprintf("KRB5 error code %d", int32(c))
}
