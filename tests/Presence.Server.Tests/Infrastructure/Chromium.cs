using Microsoft.Playwright;
using Presence.Tests.Shared;

namespace Presence.Server.Tests.Infrastructure;

/// <summary>
/// The distro's headless Chromium driven by Playwright. Never a browser Playwright downloads: machines here have no
/// internet, and `.ci/run` installs Debian's `chromium`. A missing browser fails the test, never skips it.
/// </summary>
public sealed class Chromium : IAsyncDisposable
{
    /// <summary>Browser tests share a collection so two Chromiums never compete for the CPU with the timing-bound tests.</summary>
    public const string Collection = "chromium";

    /// <summary>Overrides where the browser is, for machines that have it elsewhere.</summary>
    public const string PathVariable = "PRESENCE_CHROMIUM";

    private readonly IPlaywright playwright;
    private readonly MachineLock machine;

    private Chromium(IPlaywright playwright, IBrowser browser, MachineLock machine)
    {
        this.playwright = playwright;
        this.machine = machine;
        Browser = browser;
    }

    public IBrowser Browser { get; }

    public static async Task<Chromium> LaunchAsync()
    {
        var path = Environment.GetEnvironmentVariable(PathVariable) is { Length: > 0 } configured ? configured : "/usr/bin/chromium";
        if (!File.Exists(path))
        {
            throw new InvalidOperationException(
                $"no Chromium at {path}: install Debian's package (`apt-get install -y chromium`, as .ci/run does) or set {PathVariable}");
        }

        // Not beside a QEMU lab of any test project: both need the cores.
        var machine = await MachineLock.AcquireAsync();
        IPlaywright? playwright = null;
        try
        {
            playwright = await Playwright.CreateAsync();
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = path,
                Headless = true,

                // Tests run as root here, where Chromium's sandbox refuses to start.
                Args = ["--no-sandbox"],
                Timeout = 60_000,
            });
            return new Chromium(playwright, browser, machine);
        }
        catch
        {
            playwright?.Dispose();
            machine.Dispose();
            throw;
        }
    }

    public async Task<IPage> OpenAsync(Uri address, int width = 1400, int height = 900)
    {
        var page = await Browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = width, Height = height } });
        await page.GotoAsync(address.ToString());
        return page;
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.DisposeAsync();
        playwright.Dispose();
        machine.Dispose();
    }
}
