using System.Text;

namespace Presence.Contracts.Tests.Support;

/// <summary>Small helpers shared by the contract tests: payload bytes, a fixed clock, and rejection messages.</summary>
internal static class Payload
{
    /// <summary>The instant the contract's examples use; every test's server clock.</summary>
    public static readonly Instant Now = Instant.FromUtc(2026, 11, 25, 8, 30, 0);

    public static byte[] Utf8(string json) => Encoding.UTF8.GetBytes(json);

    /// <summary>Runs <paramref name="parse"/>, asserts it rejects with a <see cref="ContractException"/>, and returns the message.</summary>
    public static string Rejection(Action parse) => Assert.Throws<ContractException>(parse).Message;

    public static string Rejection<T>(Func<T> parse) => Assert.Throws<ContractException>(() => parse()).Message;
}
