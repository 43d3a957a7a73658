namespace KeyBrake.Spend;

/// <summary>What the spend step decided for a call (SPEC §4 step 7, §5).</summary>
internal enum SpendVerdict
{
    /// <summary>Priced and reserved against today's cap: the call may go on, and must be settled or released.</summary>
    Reserved,

    /// <summary>Spent + reserved + this call's price would pass the cap: 402 <c>daily_cap_exceeded</c>.</summary>
    CapExceeded,

    /// <summary>The call can move money but cannot be priced: 422 <c>unpriceable_request</c>.</summary>
    Unpriceable,

    /// <summary>
    /// Priced, to be reserved with the call's <c>proxy.request</c> in the chain's transaction (a ledger kept beside the
    /// chain): the call goes on to step 8, whose commit decides it (<see cref="SpendDecision.Decided"/>).
    /// </summary>
    InChain,
}
