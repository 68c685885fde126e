using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Hosting;

/// <summary>
/// What a house installs is `dotnet publish`'s output: the server without the demo, so without the agent's QEMU,
/// libvirt and sensor code. The verb stays and says where the demo is.
/// </summary>
public sealed class publishing_the_server : IDisposable
{
    private readonly string output = Path.Combine(Path.GetTempPath(), "presence-publish-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public async Task a_published_server_leaves_the_demo_and_the_agent_out()
    {
        // From a copy of the sources: a publish restores without the agent, and doing that in the checkout would
        // rewrite the restore files a build of the checkout (another test project, a developer) may be reading.
        var checkout = CopySources();
        var publish = await RunAsync("publish", Path.Combine(checkout, "src", "Presence.Server"), "-o", Path.Combine(output, "server"), "--nologo");
        Assert.True(publish.ExitCode == 0, publish.Output);

        Assert.True(File.Exists(Path.Combine(output, "server", "Presence.Server.dll")), publish.Output);
        Assert.False(File.Exists(Path.Combine(output, "server", "Presence.Agent.dll")), "the published server ships the agent");

        var demo = await RunAsync(Path.Combine(output, "server", "Presence.Server.dll"), "demo");
        Assert.Equal(2, demo.ExitCode);
        // DemoLeftOut is compiled only into such a build, so its words are spelled out here.
        Assert.Contains("built without the demo", demo.Stderr);
        Assert.Contains("dotnet run --project src/Presence.Server -- demo", demo.Stderr);

        var help = await RunAsync(Path.Combine(output, "server", "Presence.Server.dll"), "help");
        Assert.True(help.ExitCode == 0, help.Output);
        Assert.Contains("  demo ", help.Stdout);
    }

    private string CopySources()
    {
        var root = Path.Combine(output, "checkout");
        foreach (var file in new[] { "Directory.Build.props", "Directory.Packages.props", "appsettings.json" })
        {
            Directory.CreateDirectory(root);
            File.Copy(Repository.PathOf(file), Path.Combine(root, file));
        }

        foreach (var project in new[] { "Presence.Server", "Presence.Domain", "Presence.Contracts", "Presence.Agent" })
        {
            var from = Repository.PathOf("src", project);
            foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
            {
                var relative = Path.GetRelativePath(from, file);
                if (relative.Split(Path.DirectorySeparatorChar)[0] is "bin" or "obj")
                {
                    continue;
                }

                var to = Path.Combine(root, "src", project, relative);
                Directory.CreateDirectory(Path.GetDirectoryName(to)!);
                File.Copy(file, to);
            }
        }

        return root;
    }

    private static Task<BuiltProgram.Run> RunAsync(params string[] args) =>
        BuiltProgram.DotnetAsync(args, Repository.Root, TimeSpan.FromMinutes(5), start => start.Environment["COLUMNS"] = "200");

    public void Dispose()
    {
        if (Directory.Exists(output))
        {
            Directory.Delete(output, recursive: true);
        }
    }
}
