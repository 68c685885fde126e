using Microsoft.Extensions.DependencyInjection;
using MQTTnet;
using Presence.Server.Identities;
using Presence.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Presence.Server.Tests.Identities;

/// <summary>
/// A PBKDF2 check costs about 0.3 s of CPU: a client on the Wi-Fi guessing a secret must not be able to keep the
/// server busy. Wrong guesses for a name are turned away unchecked for a while, and one check runs at a time.
/// </summary>
public sealed class rationing_password_checks(ITestOutputHelper output) : IAsyncLifetime
{
    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public async Task many_wrong_secrets_run_few_checks_and_the_right_one_gets_in_after_the_backoff()
    {
        var secret = SecretHash.NewSecret();
        var enrolments = server.Services.GetRequiredService<Enrolments>();
        await using (var session = server.Store.LightweightSession())
        {
            session.Store(Enrolment.Of("laptop", IdentityRole.Host, secret, NodaTime.SystemClock.Instance.GetCurrentInstant()));
            await session.SaveChangesAsync();
        }

        // Not by connecting with the secret: a proven secret is remembered and would skip the backoff.
        await Eventually.TrueAsync(() => Task.FromResult(enrolments.Find("laptop") is not null), "the broker reading laptop's enrolment");
        var before = enrolments.SlowChecks;

        const int guesses = 40;
        var codes = new List<MqttClientConnectResultCode>();
        foreach (var batch in Enumerable.Range(0, guesses).Chunk(10))
        {
            // Ten at once, as a flood would come: they must not run ten checks side by side.
            codes.AddRange(await Task.WhenAll(batch.Select(i =>
                proving_who_connects.RefusalAsync(server.MqttPort, $"guess-{i}", "laptop", SecretHash.NewSecret()))));
        }

        var checks = enrolments.SlowChecks - before;
        output.WriteLine($"{guesses} wrong secrets: {checks} PBKDF2 checks, {codes.Count(c => c == MqttClientConnectResultCode.ServerBusy)} turned away unchecked (ServerBusy), " +
                         $"{codes.Count(c => c == MqttClientConnectResultCode.BadUserNameOrPassword)} checked and wrong");
        Assert.All(codes, c => Assert.Contains(c, new[] { MqttClientConnectResultCode.BadUserNameOrPassword, MqttClientConnectResultCode.ServerBusy }));
        Assert.InRange(checks, 1, Enrolments.FreeFailures + 3);
        Assert.Equal(checks, codes.Count(c => c == MqttClientConnectResultCode.BadUserNameOrPassword));

        // The backoff ends (at most Enrolments.MaxBackoff) and the right secret gets in without more guessing.
        await Eventually.TrueAsync(() => MqttProbe.AdmitsAsync(server.MqttPort, "laptop", secret), "laptop admitted with its secret after the backoff",
            TimeSpan.FromSeconds(40));
        output.WriteLine($"admitted after the backoff; {enrolments.SlowChecks - before} PBKDF2 checks in all");
        Assert.True(enrolments.ThrottledUntil("laptop") is null, "a proven secret ends the backoff");
    }
}
