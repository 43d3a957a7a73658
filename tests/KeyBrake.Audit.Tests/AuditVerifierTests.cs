using System.Security.Cryptography;

namespace KeyBrake.Audit.Tests;

public sealed class AuditVerifierTests : IDisposable
{
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    [Fact]
    public void Verify_IntactChainWithCheckpoints_IsOk()
    {
        var chain = TestChain.Build(50);

        var result = Verify(chain, [Sign(chain[9]), Sign(chain[49])]);

        Assert.True(result.Ok, result.Problem);
        Assert.Equal((50L, chain[^1].Hash, (long?)null), (result.HeadSeq, result.HeadHash, result.FirstBadSeq));
    }

    [Fact]
    public void Verify_AlteredField_NamesThatSeq()
    {
        var chain = TestChain.Build(20);
        chain[11] = chain[11] with { CostUsdMicros = 1 };

        var result = Verify(chain);

        Assert.Equal(12, result.FirstBadSeq);
        Assert.Contains("altered", result.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_AlteredFieldWithItsHashRecomputed_IsCaughtByTheNextLink()
    {
        var chain = TestChain.Build(20);
        chain[11] = chain[11] with { CostUsdMicros = 1 };
        chain[11] = chain[11] with { Hash = AuditHash.Compute(chain[11]) };

        Assert.Equal(13, Verify(chain).FirstBadSeq);
    }

    [Fact]
    public void Verify_RowDeletedInTheMiddle_NamesTheMissingSeq()
    {
        var chain = TestChain.Build(20);
        chain.RemoveAt(6);

        var result = Verify(chain);

        Assert.Equal(7, result.FirstBadSeq);
        Assert.Contains("missing", result.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_TwoEntriesSwapped_NamesTheFirst()
    {
        var chain = TestChain.Build(20);
        (chain[4], chain[5]) = (chain[5], chain[4]);

        Assert.Equal(5, Verify(chain).FirstBadSeq);
    }

    [Fact]
    public void Verify_ContentsReorderedKeepingSeqs_NamesTheFirst()
    {
        var chain = TestChain.Build(20);
        (chain[4], chain[5]) = (chain[5] with { Seq = 5 }, chain[4] with { Seq = 6 });

        Assert.Equal(5, Verify(chain).FirstBadSeq);
    }

    [Fact]
    public void Verify_TailTruncatedPastACheckpoint_NamesTheFirstMissingSeq()
    {
        var chain = TestChain.Build(30);
        var checkpoint = Sign(chain[29]);

        var result = Verify(chain.Take(25), [checkpoint]);

        Assert.Equal(26, result.FirstBadSeq);
        Assert.Contains("removed from the end", result.Problem, StringComparison.Ordinal);
        Assert.True(Verify(chain.Take(25)).Ok); // which is why checkpoints exist
    }

    [Fact]
    public void Verify_WholeChainRewritten_IsCaughtByTheCheckpoint()
    {
        var chain = TestChain.Build(30);
        var checkpoints = new[] { Sign(chain[9]), Sign(chain[19]) };
        var rewritten = TestChain.Relink(chain.Select(e => e.Seq == 15 ? e with { Path = "/v1/refunds" } : e));

        var result = Verify(rewritten, checkpoints);

        Assert.True(Verify(rewritten).Ok); // self-consistent without checkpoints
        Assert.Equal(11, result.FirstBadSeq); // after the last checkpoint that still matches
        Assert.Contains("rewritten", result.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_ForgedCheckpoint_IsRefused()
    {
        var chain = TestChain.Build(10);
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var forged = Checkpoint.Sign(other, 10, chain[9].Hash, "2026-06-03T10:00:00.000Z");

        var result = Verify(chain, [forged]);

        Assert.Equal(10, result.FirstBadSeq);
        Assert.Contains("signature", result.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Checkpoint_SignatureIs64BytesP1363_OverTheSpecText()
    {
        var checkpoint = Sign(TestChain.Build(1)[0]);
        var signature = Convert.FromBase64String(checkpoint.Signature);

        Assert.Equal(64, signature.Length);
        var text = $"keybrake-checkpoint/v1\n1\n{checkpoint.Hash}\n{checkpoint.Ts}\n";
        Assert.True(_key.VerifyData(System.Text.Encoding.UTF8.GetBytes(text), signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
        Assert.True(checkpoint.IsSignedBy(_key));
        Assert.False((checkpoint with { Ts = "2026-06-03T10:00:00.001Z" }).IsSignedBy(_key));
    }

    [Fact]
    public void SigningKeys_RoundTripPem_AndRefuseOtherCurves()
    {
        var pem = SigningKeys.NewPrivateKeyPem();
        using var key = SigningKeys.Load(pem);
        using var publicOnly = SigningKeys.Load(SigningKeys.PublicKeyPem(key));
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);

        Assert.True(Checkpoint.Sign(key, 1, AuditHash.Genesis, "t").IsSignedBy(publicOnly));
        Assert.Throws<CryptographicException>(() => SigningKeys.Load(p384.ExportPkcs8PrivateKeyPem()));
    }

    public void Dispose() => _key.Dispose();

    [Theory]
    [InlineData(AuditTypes.KeyRevoked)]
    [InlineData(AuditTypes.KeyExpired)]
    public void Verify_ProxyRequestOfAKeyAfterItsRevocationOrExpiry_NamesThatSeq_EvenWithEveryHashIntact(string closing)
    {
        // SPEC §7: revocation is provable from the chain. Responses and denials after it are normal; a request is not.
        var chain = TestChain.Build(12, i => i switch
        {
            4 => TestChain.Sample(i) with { Type = closing, Actor = "principal:ops", RunSeq = null, RequestId = null },
            6 => TestChain.Sample(i) with { Type = AuditTypes.ProxyResponse },
            7 => TestChain.Sample(i) with { Type = AuditTypes.ProxyDenied },
            8 => TestChain.Sample(i) with { KeyId = "key_2", Actor = "key:key_2" },
            _ when i > 4 && i != 9 => TestChain.Sample(i) with { Type = AuditTypes.ProxyResponse },
            _ => TestChain.Sample(i),
        });

        var result = Verify(chain);

        Assert.False(result.Ok);
        Assert.Equal(9, result.FirstBadSeq);
        Assert.Contains($"seq 9 is a proxy.request of key key_1 after its {closing} at seq 4", result.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_RequestsBeforeTheRevocationAndOtherKeysAfterIt_AreOk()
    {
        var chain = TestChain.Build(10, i => i == 5
            ? TestChain.Sample(i) with { Type = AuditTypes.KeyRevoked, Actor = "principal:ops", RunSeq = null }
            : i > 5 ? TestChain.Sample(i) with { KeyId = "key_2", Actor = "key:key_2" } : TestChain.Sample(i));

        Assert.True(Verify(chain).Ok);
    }

    private VerifyResult Verify(IEnumerable<AuditEntry> entries, IEnumerable<Checkpoint>? checkpoints = null)
    {
        var verifier = new AuditVerifier(checkpoints ?? [], _key);
        foreach (var entry in entries)
        {
            verifier.Add(entry);
        }
        return verifier.Finish();
    }

    private Checkpoint Sign(AuditEntry entry) => Checkpoint.Sign(_key, entry.Seq, entry.Hash, "2026-06-03T10:00:00.000Z");
}
