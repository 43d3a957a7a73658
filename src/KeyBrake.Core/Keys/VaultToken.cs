using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace KeyBrake.Keys;

/// <summary>Tokens: a prefix, then base64url (no padding) of 32 CSPRNG bytes. Only their SHA-256 is ever stored.</summary>
public static class VaultToken
{
    public const string KeyPrefix = "vk_";
    public const string PrincipalPrefix = "kba_";

    public static string NewKeyToken() => KeyPrefix + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    public static string NewPrincipalToken() => PrincipalPrefix + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}
