/*
 * Wine 8.0 (Debian 12's wine64) lacks bcryptprimitives.dll, which every Go
 * 1.22+ Windows binary loads at start for ProcessPrng (its random source), so
 * no Go test binary starts under it. This stand-in, installed into the Wine
 * prefix's system32 by scripts/cross-test.sh, provides ProcessPrng on top of
 * RtlGenRandom (advapi32's SystemFunction036), which Wine has. It is used
 * only for testing under Wine; real Windows 10 and later has the DLL.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T size)
{
	while (size > 0) {
		ULONG n = size > 0x10000000 ? 0x10000000 : (ULONG)size;
		if (!SystemFunction036(data, n))
			return FALSE;
		data += n;
		size -= n;
	}
	return TRUE;
}
