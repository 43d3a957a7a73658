using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace KeyBrake.Telemetry;

/// <summary>
/// Traces (a span per proxied call), metrics (<see cref="KeyBrakeMetrics"/>, <see cref="Audit.AuditMetrics"/>) and logs,
/// exported over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set; the standard <c>OTEL_*</c> variables apply
/// (<c>OTEL_SERVICE_NAME</c>, <c>OTEL_EXPORTER_OTLP_PROTOCOL</c> — KeyBrake's default is <c>http/protobuf</c>,
/// <c>OTEL_EXPORTER_OTLP_HEADERS</c>, <c>OTEL_METRIC_EXPORT_INTERVAL</c>, …). Nothing is exported otherwise.
/// </summary>
internal static class KeyBrakeTelemetry
{
    public const string ActivitySourceName = "KeyBrake";

    public static readonly ActivitySource Source = new(ActivitySourceName);

    public static WebApplicationBuilder AddKeyBrakeTelemetry(this WebApplicationBuilder builder)
    {
        if (string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            return builder;
        }
        // OTLP/HTTP (port 4318) unless told otherwise: what collectors and most backends accept without gRPC set up.
        if (string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_PROTOCOL"]))
        {
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf" });
        }
        var serviceName = builder.Configuration["OTEL_SERVICE_NAME"] ?? "keybrake";
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName, serviceVersion: typeof(KeyBrakeTelemetry).Assembly.GetName().Version?.ToString()))
            // ASP.NET Core's own server span for each request (so it is sampled and exported), ours inside it.
            .WithTracing(tracing => tracing.AddSource(ActivitySourceName, "Microsoft.AspNetCore"))
            .WithMetrics(metrics => metrics.AddMeter(KeyBrakeMetrics.MeterName, Audit.AuditMetrics.MeterName))
            .WithLogging(logging => { }, options => options.IncludeFormattedMessage = true)
            .UseOtlpExporter();
        return builder;
    }

    /// <summary>The span of one proxied call; null when nobody listens (no exporter configured).</summary>
    public static Activity? StartProxyCall(string vendor, string method) =>
        Source.HasListeners() ? Source.StartActivity($"keybrake.proxy {vendor}", ActivityKind.Internal)?
            .SetTag("keybrake.vendor", vendor)
            .SetTag("http.request.method", method) : null;
}
