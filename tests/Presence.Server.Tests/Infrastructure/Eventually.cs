namespace Presence.Server.Tests.Infrastructure;

public static class Eventually
{
    /// <summary>Polls until the check returns a value; the timeout is only a guard against hanging, not a speed goal.</summary>
    public static async Task<T> GetAsync<T>(Func<Task<T?>> check, string what, TimeSpan? timeout = null) where T : class
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            if (await check() is { } value)
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"timed out waiting for {what}");
            }

            await Task.Delay(100);
        }
    }

    public static Task TrueAsync(Func<Task<bool>> check, string what, TimeSpan? timeout = null) =>
        GetAsync<object>(async () => await check() ? new object() : null, what, timeout);
}
