using Xunit.Abstractions;

namespace Presence.Agent.Tests.Support;

/// <summary>Tests that each get a fresh broker and house (<see cref="House"/>), stopped with everything in it afterwards.</summary>
public abstract class HouseTests(ITestOutputHelper output) : IAsyncLifetime
{
    protected House house = null!;

    public async Task InitializeAsync() => house = await House.StartAsync(output);

    public async Task DisposeAsync() => await house.DisposeAsync();
}
