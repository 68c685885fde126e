using Presence.Server.Configuration;

namespace Presence.Server.Telemetry;

/// <summary>
/// The `Telemetry` section: where OpenTelemetry traces and metrics go. Off unless <see cref="OtlpEndpoint"/> is set;
/// then the server exports Presence's own stages, Wolverine's and Marten's instrumentation over OTLP.
/// </summary>
public sealed class TelemetryOptions
{
    public const string Section = "Telemetry";

    /// <summary>The collector, e.g. http://127.0.0.1:4318 (http/protobuf) or http://127.0.0.1:4317 (grpc). Unset: nothing is exported.</summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary>`http/protobuf` (port 4318 by convention) or `grpc` (4317), as OTEL_EXPORTER_OTLP_PROTOCOL names them.</summary>
    public string Protocol { get; set; } = "http/protobuf";

    /// <summary>
    /// Headers the collector needs, e.g. `Authorization=Bearer …`, as OTEL_EXPORTER_OTLP_HEADERS writes them
    /// (comma-separated key=value). A secret: never logged.
    /// </summary>
    public string? Headers { get; set; }

    /// <summary>service.name of the exported data; service.instance.id is Mqtt:NodeName.</summary>
    public string ServiceName { get; set; } = "presence-server";

    /// <summary>How often metrics are exported, e.g. `60s` (the OpenTelemetry default).</summary>
    public string MetricsInterval { get; set; } = "60s";

    public bool Enabled => !string.IsNullOrWhiteSpace(OtlpEndpoint);

    /// <summary>Every problem with the section, each naming its key; empty when it is fine.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (!Enabled)
        {
            return problems;
        }

        if (!Uri.TryCreate(OtlpEndpoint, UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https"))
        {
            problems.Add($"Telemetry:OtlpEndpoint must be an http:// or https:// address such as http://127.0.0.1:4318, got '{OtlpEndpoint}'");
        }

        if (Protocol is not ("http/protobuf" or "grpc"))
        {
            problems.Add($"Telemetry:Protocol must be http/protobuf or grpc, got '{Protocol}'");
        }

        if (string.IsNullOrWhiteSpace(ServiceName))
        {
            problems.Add("Telemetry:ServiceName must not be empty");
        }

        if (!DurationText.TryParse(MetricsInterval, out var interval))
        {
            problems.Add($"Telemetry:MetricsInterval '{MetricsInterval}' is not a duration; write e.g. 500ms, 10s or 1m");
        }
        else if (interval.ToTimeSpan() < TimeSpan.FromMilliseconds(100))
        {
            problems.Add($"Telemetry:MetricsInterval must be at least 100ms, got {MetricsInterval}");
        }

        if (Headers is { Length: > 0 } headers && headers.Split(',').Any(h => !h.Contains('=') || h.StartsWith('=')))
        {
            // The value is a secret: the message names the key and the expected shape only.
            problems.Add("Telemetry:Headers must be comma-separated key=value pairs, e.g. Authorization=Bearer <token>");
        }

        return problems;
    }
}
