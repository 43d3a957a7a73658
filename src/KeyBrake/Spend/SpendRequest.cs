using KeyBrake.Spend.Pricing;
using Microsoft.Extensions.Primitives;

namespace KeyBrake.Spend;

/// <summary>
/// What the spend step reads of a call, as plain values (it knows nothing of HTTP): the vendor, the method as sent, the
/// canonical path, the request's fields (parsed at most once, only if the price needs them) and the <c>Stripe-Account</c>
/// values, empty when absent (an upstream lookup reads on the account the call acts on: SPEC §4 step 10, §5).
/// </summary>
internal readonly record struct SpendRequest(
    string Vendor, string Method, string Path, Func<(RequestFields? Fields, string? Error)> ReadFields, StringValues StripeAccount);
