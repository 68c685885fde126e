namespace Presence.Domain.Tests.Architecture;

/// <summary>Presence.Domain is signals in, events out: no event store, no bus, no broker, no database.</summary>
public class the_domain_stays_pure
{
    [Theory]
    [InlineData("Marten")]
    [InlineData("Wolverine")]
    [InlineData("JasperFx")]
    [InlineData("MQTTnet")]
    [InlineData("Npgsql")]
    public void it_references_no_infrastructure_assembly(string prefix)
    {
        var references = typeof(UserDecider).Assembly.GetReferencedAssemblies().Select(a => a.Name ?? "").ToList();

        Assert.Contains("NodaTime", references);
        Assert.DoesNotContain(references, name => name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase));
    }
}
