using System.Diagnostics;
using Presence.Server.Tests.Infrastructure;
using YamlDotNet.RepresentationModel;

namespace Presence.Server.Tests.HomeAssistant;

/// <summary>
/// docker-compose.yml runs Home Assistant beside mosquitto and the server, with the example configuration and the
/// blueprints mounted, reachable on this Docker host's loopback only. No image can be pulled here, so Compose itself
/// checks the file (`docker-compose config`) and the test checks what it resolved.
/// </summary>
public sealed class home_assistant_in_docker_compose
{
    [Fact]
    public async Task compose_accepts_the_file_and_home_assistant_gets_the_examples()
    {
        var (code, output, error) = await ComposeAsync("config");
        Assert.True(code == 0, $"docker-compose config failed ({code}): {error}");

        var stream = new YamlStream();
        stream.Load(new StringReader(output));
        var services = (YamlMappingNode)((YamlMappingNode)stream.Documents.Single().RootNode)["services"];
        var ha = (YamlMappingNode)services["homeassistant"];

        Assert.StartsWith("ghcr.io/home-assistant/home-assistant:", ((YamlScalarNode)ha["image"]).Value);
        var ports = ((YamlSequenceNode)ha["ports"]).Select(p => ((YamlScalarNode)p).Value!).ToList();
        Assert.All(ports, p => Assert.StartsWith("127.0.0.1:", p));

        var mounts = ((YamlSequenceNode)ha["volumes"]).Select(v => ((YamlScalarNode)v).Value!).ToList();
        foreach (var (file, at) in new[]
                 {
                     ("integrations/homeassistant/configuration.yaml", "/config/configuration.yaml"),
                     ("integrations/homeassistant/blueprints/automation/presence", "/config/blueprints/automation/presence"),
                 })
        {
            var mount = Assert.Single(mounts, m => m.StartsWith(Repository.PathOf(file) + ":" + at + ":", StringComparison.Ordinal));
            Assert.EndsWith(":ro", mount);
            Assert.True(File.Exists(Repository.PathOf(file)) || Directory.Exists(Repository.PathOf(file)), file);
        }

        Assert.Contains("mosquitto", ((YamlMappingNode)ha["depends_on"]).Children.Keys.Select(k => ((YamlScalarNode)k).Value));
    }

    [Fact]
    public async Task a_broken_compose_file_is_refused()
    {
        var broken = Path.Combine(Path.GetTempPath(), $"presence-compose-{Guid.NewGuid():N}.yml");
        await File.WriteAllTextAsync(broken, "services:\n  homeassistant:\n    image: x\n    ports: 8123\n");
        try
        {
            var (code, _, error) = await ComposeAsync("-f", broken, "config", "-q");
            Assert.NotEqual(0, code);
            Assert.Contains("ports", error);
        }
        finally
        {
            File.Delete(broken);
        }
    }

    private static async Task<(int Code, string Output, string Error)> ComposeAsync(params string[] args)
    {
        var start = new ProcessStartInfo("docker-compose") { WorkingDirectory = Repository.Root, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output, await error);
    }
}
