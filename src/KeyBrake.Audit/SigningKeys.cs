using System.Security.Cryptography;

namespace KeyBrake.Audit;

/// <summary>The checkpoint signing key: a P-256 key as PKCS#8 PEM (the secret), its public half as SPKI PEM.</summary>
public static class SigningKeys
{
    public static string NewPrivateKeyPem()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return key.ExportPkcs8PrivateKeyPem();
    }

    /// <summary>Loads a P-256 key from PEM (private PKCS#8 or public SPKI); anything else is refused.</summary>
    public static ECDsa Load(string pem)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
            if (key.KeySize != 256)
            {
                throw new CryptographicException($"The audit signing key must be ECDSA P-256, not a {key.KeySize}-bit curve.");
            }
            return key;
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    public static string PublicKeyPem(ECDsa key) => key.ExportSubjectPublicKeyInfoPem();
}
