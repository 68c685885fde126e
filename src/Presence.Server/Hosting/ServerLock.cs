namespace Presence.Server.Hosting;

/// <summary>
/// One server at a time on a private PostgreSQL. A second `dotnet run` (another terminal, or beside the installed
/// service) would take the running cluster for the leftover of a crashed run, stop it under the first server and, on
/// its own exit, leave that server without a database. The lock is the kernel's (.NET's FileShare.None is an advisory
/// lock on Linux, held by the open file), so a server that crashed leaves none behind and the next start still takes
/// its leftover cluster over. Verbs and the demo join a running cluster instead (EmbeddedPostgres.StartOrAttachAsync)
/// and take no lock.
/// </summary>
public sealed class ServerLock : IDisposable
{
    private readonly FileStream file;

    private ServerLock(FileStream file) => this.file = file;

    /// <summary>The file beside the data folder that the running server holds, as the password file is beside it.</summary>
    public static string PathFor(string dataDirectory) => EmbeddedPostgres.DataFolderOf(dataDirectory) + ".lock";

    /// <summary>What flock(LOCK_EX | LOCK_NB) fails with when another open file holds the lock (EWOULDBLOCK).</summary>
    private const int HeldElsewhere = 11;

    /// <exception cref="StartupException">Another process holds the lock: a server runs on this data folder.</exception>
    /// <exception cref="EmbeddedPostgresException">The folder beside the data folder cannot be created or written.</exception>
    public static ServerLock Take(string dataDirectory)
    {
        var path = PathFor(dataDirectory);
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            return new ServerLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException && e.HResult != HeldElsewhere)
        {
            throw EmbeddedPostgres.FolderUnusable(EmbeddedPostgres.DataFolderOf(dataDirectory), e);
        }
        catch (IOException)
        {
            throw new StartupException(
                $"another Presence server is running on the private PostgreSQL in {EmbeddedPostgres.DataFolderOf(dataDirectory)} (it holds {path}): " +
                "stop that one first, or give this one its own Database:DataDirectory, Mqtt:Port and Urls");
        }
    }

    public void Dispose() => file.Dispose();
}
