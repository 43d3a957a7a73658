using KeyBrake.Keys;

namespace KeyBrake;

/// <summary><c>req_</c> + ULID, made once per request by the listener gate and echoed as <c>X-KeyBrake-Request-Id</c>.</summary>
internal static class RequestIds
{
    public const string Header = "X-KeyBrake-Request-Id";
    private static readonly object ItemKey = new();

    public static string Assign(HttpContext context, TimeProvider time)
    {
        var id = "req_" + Ulid.New(time);
        context.Items[ItemKey] = id;
        context.Response.Headers[Header] = id;
        return id;
    }

    public static string Of(HttpContext context) => context.Items[ItemKey] as string ?? "req_unassigned";
}
