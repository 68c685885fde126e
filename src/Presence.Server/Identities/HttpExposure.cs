using System.Net;
using Presence.Server.Hosting;

namespace Presence.Server.Identities;

/// <summary>
/// The HTTP API and dashboard have no login: reachable from the network they would show every user's whereabouts
/// to anyone there, and answer their requests. So the server listens beyond loopback only when the house says so.
/// </summary>
public sealed class HttpExposure(IConfiguration configuration) : IHostedService
{
    public const string OptInKey = "Http:AllowUnauthenticated";

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var exposed = BeyondLoopback(configuration).ToList();
        if (exposed.Count > 0 && !configuration.GetValue<bool>(OptInKey))
        {
            throw new StartupException(
                $"HTTP would listen on {string.Join(", ", exposed)}, beyond this computer, and the API and dashboard have no login; " +
                $"use Urls=http://127.0.0.1:8080 (or a reverse proxy with authentication), or set {OptInKey}=true to allow it");
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The configured addresses (Urls, HTTP(S)_PORTS, Kestrel endpoints) that other computers could reach.</summary>
    public static IEnumerable<string> BeyondLoopback(IConfiguration configuration)
    {
        var urls = (configuration["Urls"] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Concat(configuration.GetSection("Kestrel:Endpoints").GetChildren().Select(e => e["Url"]).OfType<string>())
            .ToList();
        foreach (var url in urls.Where(u => !IsLoopback(u)))
        {
            yield return url;
        }

        // Ports alone (the container images set ASPNETCORE_HTTP_PORTS) bind every interface, but only when no Urls are given.
        if (urls.Count == 0)
        {
            foreach (var key in new[] { "HTTP_PORTS", "HTTPS_PORTS" }.Where(k => !string.IsNullOrWhiteSpace(configuration[k])))
            {
                yield return $"{key}={configuration[key]}";
            }
        }
    }

    public static bool IsLoopback(string url)
    {
        var rest = url.Contains("://", StringComparison.Ordinal) ? url[(url.IndexOf("://", StringComparison.Ordinal) + 3)..] : url;
        var host = rest.StartsWith('[') ? rest[1..Math.Max(1, rest.IndexOf(']'))] : rest.Split(':', '/')[0];
        return host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));
    }
}
