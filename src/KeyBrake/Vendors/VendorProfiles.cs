using System.Collections.Frozen;
using KeyBrake.Spend.Pricing;
using KeyBrake.Vendors.Resend;
using KeyBrake.Vendors.Stripe;
using KeyBrake.Vendors.Twilio;

namespace KeyBrake.Vendors;

/// <summary>The vendors KeyBrake knows how to authenticate and price (SPEC §4–§5): one profile each.</summary>
internal static class VendorProfiles
{
    /// <summary>Every known vendor, in the order errors and the README list them.</summary>
    public static readonly IReadOnlyList<VendorProfile> All = [StripeProfile.Instance, TwilioProfile.Instance, ResendProfile.Instance];

    private static readonly FrozenDictionary<string, VendorProfile> ByName = All.ToFrozenDictionary(p => p.Name, StringComparer.Ordinal);

    public static IEnumerable<string> Names => All.Select(p => p.Name);

    /// <summary>The profile of a vendor name (ordinal, as configuration spells it); null for an unknown one.</summary>
    public static VendorProfile? Find(string name) => ByName.GetValueOrDefault(name);

    /// <summary>The documented <c>KeyBrake:Vendors:{name}:Upstream</c>, <c>SecretName</c> and <c>Auth</c> defaults.</summary>
    public static IEnumerable<KeyValuePair<string, string?>> ConfigurationDefaults => All.SelectMany(p => new KeyValuePair<string, string?>[]
    {
        new($"KeyBrake:Vendors:{p.Name}:Upstream", p.Upstream),
        new($"KeyBrake:Vendors:{p.Name}:SecretName", p.SecretName),
        new($"KeyBrake:Vendors:{p.Name}:Auth", p.Auth),
    });

    /// <summary>Every vendor's tables behind one <see cref="Pricer"/>.</summary>
    public static Pricer CreatePricer(PricingOptions options) => new(All.Select(p => p.Pricing(options)));
}
