using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace KeyBrake.Audit;

/// <summary>
/// A signed statement that the chain had <see cref="Hash"/> at <see cref="Seq"/> (SPEC §7): ECDSA P-256 / SHA-256
/// over <c>keybrake-checkpoint/v1\n{seq}\n{hash}\n{ts}\n</c>; <see cref="Signature"/> is base64 of r‖s (IEEE P1363).
/// </summary>
public sealed record Checkpoint(long Seq, string Hash, string Ts, string Signature)
{
    public static byte[] SignedText(long seq, string hash, string ts) =>
        Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"keybrake-checkpoint/v1\n{seq}\n{hash}\n{ts}\n"));

    public static Checkpoint Sign(ECDsa key, long seq, string hash, string ts) =>
        new(seq, hash, ts, Convert.ToBase64String(
            key.SignData(SignedText(seq, hash, ts), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation)));

    public bool IsSignedBy(ECDsa publicKey)
    {
        var signature = new byte[64];
        return Convert.TryFromBase64String(Signature, signature, out var length) && length == 64
            && publicKey.VerifyData(SignedText(Seq, Hash, Ts), signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }
}
