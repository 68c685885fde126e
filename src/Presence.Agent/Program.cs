using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Presence.Agent;
using Presence.Agent.Configuration;

// Usage: AgentCommandLine.Usage (or --help).
AgentOptions options;
IConfigurationRoot configuration;
try
{
    var commandLine = AgentCommandLine.Parse(args);
    if (commandLine.Help)
    {
        Console.WriteLine(AgentCommandLine.Usage);
        return 0;
    }

    (configuration, options) = AgentConfiguration.Load(commandLine);
    AgentConfiguration.PrepareStateDirectory(options);
}
catch (AgentOptionsException e)
{
    Console.Error.WriteLine($"presence-agent: {e.Message}");
    return 2;
}

// Defaults off: configuration is layered by AgentConfiguration (agent.json beside the program, not the current directory).
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, Args = [] });
builder.Configuration.AddConfiguration(configuration);
builder.Logging.AddConfiguration(configuration.GetSection("Logging"));
builder.Logging.AddSimpleConsole(console =>
{
    console.SingleLine = true;
    console.TimestampFormat = "HH:mm:ss ";
});
builder.Services.AddHostedService(services => new PresenceAgent(options, services.GetRequiredService<ILoggerFactory>()));
// Under systemd (Type=notify) the unit counts as started when the agent is; elsewhere this does nothing.
builder.Services.AddSystemd();

try
{
    await builder.Build().RunAsync();
}
catch (Presence.Agent.Hypervisors.HypervisorException e)
{
    // The hypervisor this computer is configured with does not answer at start (libvirtd not running, a wrong
    // connection URI): its own words, not a stack trace.
    Console.Error.WriteLine($"presence-agent: {e.Message}");
    return 3;
}

return 0;
