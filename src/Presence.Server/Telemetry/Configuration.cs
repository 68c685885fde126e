using Marten;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Presence.Server.Hosting;

namespace Presence.Server.Telemetry;

/// <summary>
/// OpenTelemetry, off by default: with Telemetry:OtlpEndpoint set, traces and metrics of Presence's stages
/// (<see cref="PresenceTelemetry"/>), Wolverine's handlers and Marten's connections go to an OTLP collector (an
/// OpenTelemetry Collector, Grafana Alloy, Jaeger, …). Unset, no provider is registered and nothing listens.
/// </summary>
public static class Configuration
{
    public static IServiceCollection AddTelemetry(this IServiceCollection services, IConfiguration configuration, string nodeName)
    {
        var options = PresenceApp.Bind<TelemetryOptions>(configuration, TelemetryOptions.Section);
        if (options.Problems() is { Count: > 0 } problems)
        {
            throw new StartupException("invalid settings:\n  " + string.Join("\n  ", problems));
        }

        services.AddSingleton(options);
        if (!options.Enabled)
        {
            return services;
        }

        var interval = (int)Presence.Server.Configuration.DurationText.Parse(options.MetricsInterval, "Telemetry:MetricsInterval").TotalMilliseconds;
        services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(options.ServiceName, serviceVersion: typeof(Configuration).Assembly.GetName().Version?.ToString(), serviceInstanceId: nodeName))
            .WithTracing(t => t
                .AddSource(PresenceTelemetry.Name, "Wolverine", "Marten")
                .AddOtlpExporter(o => Exporter(o, options, "v1/traces")))
            .WithMetrics(m => m
                // Wolverine names its meter "Wolverine:<service name>".
                .AddMeter(PresenceTelemetry.Name, "Wolverine*", "Marten")
                .AddOtlpExporter((o, reader) =>
                {
                    Exporter(o, options, "v1/metrics");
                    reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = interval;
                }));
        // Marten's connection spans carry the commit of each handler's transaction: the "commit" stage.
        services.ConfigureMarten(o => o.OpenTelemetry.TrackConnections = JasperFx.OpenTelemetry.TrackLevel.Normal);
        return services;
    }

    /// <summary>
    /// Telemetry:OtlpEndpoint is the collector's base address, as OTEL_EXPORTER_OTLP_ENDPOINT is; over http/protobuf
    /// an endpoint set in code is posted to as given, so each signal's conventional path is added here.
    /// </summary>
    private static void Exporter(OtlpExporterOptions o, TelemetryOptions options, string signalPath)
    {
        var endpoint = new Uri(options.OtlpEndpoint!);
        o.Protocol = options.Protocol == "grpc" ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;
        o.Endpoint = o.Protocol == OtlpExportProtocol.Grpc
            ? endpoint
            : new Uri(endpoint, endpoint.AbsolutePath.TrimEnd('/') + "/" + signalPath);
        if (!string.IsNullOrWhiteSpace(options.Headers))
        {
            o.Headers = options.Headers;
        }
    }
}
