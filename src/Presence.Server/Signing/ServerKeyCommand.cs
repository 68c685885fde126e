using JasperFx.CommandLine;

namespace Presence.Server.Signing;

public class ServerKeyInput : NetCoreInput;

[Description("Print the house's public command-signing key (made on first use): give it to each agent as Agent:Trust:ServerKey", Name = "server-key")]
public sealed class ServerKeyCommand : JasperFxAsyncCommand<ServerKeyInput>
{
    public override async Task<bool> Execute(ServerKeyInput input)
    {
        using var host = input.BuildHost();
        var key = await host.Services.GetRequiredService<HouseKeys>().PublicKeyAsync(CancellationToken.None);
        Console.WriteLine(key);
        await Console.Error.WriteLineAsync($"Give it to each agent: Agent:Trust:ServerKey in its agent.json, or Agent__Trust__ServerKey={key} in its environment.");
        return true;
    }
}
