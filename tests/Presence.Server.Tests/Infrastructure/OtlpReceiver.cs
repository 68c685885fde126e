using System.Net;
using System.Text;

namespace Presence.Server.Tests.Infrastructure;

/// <summary>
/// A stand-in OpenTelemetry collector: takes OTLP over HTTP (POST /v1/traces, /v1/metrics) on loopback and keeps
/// each body. The bodies are protobuf; names and string attributes are stored in it as plain UTF-8, so a test can
/// look for a span, a metric or a tag by its text without decoding.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly HttpListener listener = new();
    private readonly List<(string Path, byte[] Body)> received = [];
    private readonly Task loop;

    public int Port { get; }

    public string Endpoint => $"http://127.0.0.1:{Port}";

    public OtlpReceiver()
    {
        Port = Ports.Free();
        listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        listener.Start();
        loop = Task.Run(ServeAsync);
    }

    /// <summary>Everything posted to <paramref name="path"/> so far, as text (protobuf strings are readable in it).</summary>
    public string TextOf(string path)
    {
        lock (received)
        {
            return string.Concat(received.Where(r => r.Path == path).Select(r => Encoding.UTF8.GetString(r.Body)));
        }
    }

    public IReadOnlyList<string> Paths
    {
        get { lock (received) return received.Select(r => r.Path).ToList(); }
    }

    private async Task ServeAsync()
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            lock (received)
            {
                received.Add((context.Request.Url!.AbsolutePath, body.ToArray()));
            }

            // An empty ExportTraceServiceResponse / ExportMetricsServiceResponse: success.
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/x-protobuf";
            context.Response.Close();
        }
    }

    public async ValueTask DisposeAsync()
    {
        listener.Stop();
        listener.Close();
        await loop;
    }
}
