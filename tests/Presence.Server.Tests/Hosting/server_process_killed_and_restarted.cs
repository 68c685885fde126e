using System.Diagnostics;
using Presence.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Presence.Server.Tests.Hosting;

/// <summary>
/// The ground the process drills (issue 10 §3) stand on: a server SIGKILLed is dead at once, and another started on
/// the same database, broker and folder is ready again.
/// </summary>
public sealed class server_process_killed_and_restarted(ITestOutputHelper output)
{
    [Fact]
    public async Task a_killed_server_is_gone_and_a_new_one_on_the_same_store_is_ready()
    {
        await using var broker = await ExternalBroker.StartAsync();
        var database = await PostgresCluster.NewDatabaseAsync("process");
        var directory = PostgresCluster.NewScratchDirectory("process");

        await using var first = await ServerProcess.StartAsync(database, broker, directory, "process");
        first.Kill();
        Assert.True(first.HasExited, first.Output);

        var restart = Stopwatch.StartNew();
        await using var second = await ServerProcess.StartAsync(database, broker, directory, "process");
        output.WriteLine($"restarted server ready in {restart.ElapsedMilliseconds} ms");
        Assert.False(second.HasExited, second.Output);

        await second.StopAsync();
        Assert.True(second.HasExited, second.Output);
    }
}
