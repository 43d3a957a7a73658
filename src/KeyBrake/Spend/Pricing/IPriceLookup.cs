namespace KeyBrake.Spend.Pricing;

/// <summary>
/// Prices a call whose amount or currency is known only upstream (<see cref="Price.Lookup"/>): the vendor's profile
/// reads the object the call acts on, with the vendor secret. A read that fails leaves the call unpriceable.
/// </summary>
internal interface IPriceLookup
{
    /// <summary>The vendor whose <see cref="Price.Lookup"/>s this reads (<c>stripe</c>).</summary>
    string Vendor { get; }

    /// <param name="lookup">What to read, from the vendor's pricing.</param>
    /// <param name="request">The call: the lookup reads on the account it acts on, held again to the key's list.</param>
    /// <param name="allowedAccounts">The key's <c>stripe_accounts</c>.</param>
    ValueTask<Price> PriceAsync(UpstreamLookup lookup, SpendRequest request, IReadOnlyList<string> allowedAccounts, CancellationToken cancellationToken);
}
