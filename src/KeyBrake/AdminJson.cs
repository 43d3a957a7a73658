using System.Buffers;
using System.Text.Json;

namespace KeyBrake;

/// <summary>
/// Reads an admin request body as JSON, strictly (SPEC §3): a body that is not JSON, has a member name twice in any
/// object at any depth, or has a string (or name) that is not valid Unicode, is a 400 <c>invalid_request</c> naming
/// each place, never a 500 and never last-wins. Every admin endpoint that takes a body reads it through here.
/// </summary>
internal static class AdminJson
{
    private const int MaxBytes = 256 * 1024;

    public static async Task<(JsonElement Body, KeyBrakeError? Error)> ReadAsync(HttpContext context)
    {
        if (context.Request.ContentLength > MaxBytes)
        {
            return (default, TooLarge());
        }
        var buffer = new ArrayBufferWriter<byte>(4096);
        int read;
        while ((read = await context.Request.Body.ReadAsync(buffer.GetMemory(4096), context.RequestAborted)) > 0)
        {
            buffer.Advance(read);
            if (buffer.WrittenCount > MaxBytes)
            {
                return (default, TooLarge()); // a chunked body has no declared length to refuse up front
            }
        }
        try
        {
            var problems = Problems(buffer.WrittenSpan);
            if (problems.Count > 0)
            {
                return (default, KeyBrakeError.InvalidRequest(problems));
            }
            using var document = JsonDocument.Parse(buffer.WrittenMemory);
            return (document.RootElement.Clone(), null);
        }
        catch (JsonException e)
        {
            return (default, KeyBrakeError.InvalidRequest([new FieldError("body", $"is not valid JSON ({e.Message})")]));
        }
    }

    public static IResult Ok(object value, int status = StatusCodes.Status200OK) =>
        Results.Json(value, KeyBrakeJson.Options, statusCode: status);

    private static KeyBrakeError TooLarge() =>
        new(StatusCodes.Status413PayloadTooLarge, "body_too_large", $"Admin request bodies are at most {MaxBytes} bytes.");

    /// <summary>
    /// One pass over the tokens: duplicated member names (compared unescaped, so <c>"a"</c> and <c>"\u0061"</c> are the
    /// same name) and strings that do not decode to valid Unicode (a lone surrogate escape, invalid UTF-8), each named
    /// by its path as the field errors name fields (<c>metadata.run_id</c>, <c>allowed_endpoints[2]</c>).
    /// </summary>
    private static List<FieldError> Problems(ReadOnlySpan<byte> json)
    {
        var problems = new List<FieldError>();
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
        var frames = new Stack<Frame>();
        while (reader.Read())
        {
            var frame = frames.Count > 0 ? frames.Peek() : null;
            switch (reader.TokenType)
            {
                case JsonTokenType.PropertyName:
                    var name = TryGetString(ref reader);
                    frame!.Member = name ?? "(name)";
                    if (name is null)
                    {
                        problems.Add(new(Path(frame), "a member name is not valid Unicode (e.g. a lone surrogate \\ud800)"));
                    }
                    else if (!frame.Names!.Add(name))
                    {
                        problems.Add(new(Path(frame), "is given more than once (duplicate JSON member; KeyBrake never takes the last one)"));
                    }
                    continue; // its value follows
                case JsonTokenType.StartObject or JsonTokenType.StartArray:
                    frames.Push(new Frame(Path(frame), reader.TokenType == JsonTokenType.StartObject));
                    continue; // the parent's element ends with the matching end token
                case JsonTokenType.EndObject or JsonTokenType.EndArray:
                    frames.Pop();
                    frame = frames.Count > 0 ? frames.Peek() : null;
                    break;
                case JsonTokenType.String when TryGetString(ref reader) is null:
                    problems.Add(new(Path(frame), "is not valid Unicode (e.g. a lone surrogate \\ud800)"));
                    break;
            }
            if (frame is { Names: null })
            {
                frame.Index++;
            }
        }
        return problems;
    }

    private static string? TryGetString(ref Utf8JsonReader reader)
    {
        try
        {
            return reader.GetString();
        }
        catch (InvalidOperationException)
        {
            return null; // System.Text.Json's word for a lone surrogate or invalid UTF-8 in a string
        }
    }

    /// <summary>The path of the value at the reader's position inside <paramref name="frame"/> (null: the body itself).</summary>
    private static string Path(Frame? frame) => frame switch
    {
        null => "body",
        { Names: not null } => frame.Path.Length == 0 ? frame.Member! : $"{frame.Path}.{frame.Member}",
        _ => $"{(frame.Path.Length == 0 ? "body" : frame.Path)}[{frame.Index}]",
    };

    private sealed class Frame(string path, bool isObject)
    {
        /// <summary>"" for the body itself.</summary>
        public string Path { get; } = path == "body" ? "" : path;

        public HashSet<string>? Names { get; } = isObject ? new(StringComparer.Ordinal) : null;

        public string? Member { get; set; }

        public int Index { get; set; }
    }
}
