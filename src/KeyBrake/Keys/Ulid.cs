using System.Security.Cryptography;

namespace KeyBrake.Keys;

/// <summary>ULIDs (48-bit millisecond time, 80 random bits, Crockford base32): sortable ids for keys and requests.</summary>
internal static class Ulid
{
    private const string Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    public static string New(TimeProvider time)
    {
        Span<byte> bytes = stackalloc byte[16];
        var ms = time.GetUtcNow().ToUnixTimeMilliseconds();
        for (var i = 5; i >= 0; i--)
        {
            bytes[i] = (byte)(ms & 0xFF);
            ms >>= 8;
        }
        RandomNumberGenerator.Fill(bytes[6..]);
        return string.Create(26, bytes.ToArray(), static (chars, b) =>
        {
            // 128 bits as 26 base32 digits, most significant first (the first digit carries 3 bits).
            var hi = ((ulong)b[0] << 56) | ((ulong)b[1] << 48) | ((ulong)b[2] << 40) | ((ulong)b[3] << 32)
                | ((ulong)b[4] << 24) | ((ulong)b[5] << 16) | ((ulong)b[6] << 8) | b[7];
            var lo = ((ulong)b[8] << 56) | ((ulong)b[9] << 48) | ((ulong)b[10] << 40) | ((ulong)b[11] << 32)
                | ((ulong)b[12] << 24) | ((ulong)b[13] << 16) | ((ulong)b[14] << 8) | b[15];
            var value = new UInt128(hi, lo);
            for (var i = 25; i >= 0; i--)
            {
                chars[i] = Alphabet[(int)(value & 31)];
                value >>= 5;
            }
        });
    }
}
