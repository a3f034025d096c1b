using System.Net.Sockets;
using Sensor.Integration.Tests.Live;

namespace Sensor.Integration.Tests.Smtp;

/// <summary>
/// A real Postfix on 127.0.0.1 with SMTP AUTH through a private Dovecot auth service (passwd-file,
/// users alice/wonderland and bob/builder), started by the test in a private directory: relays
/// nothing, every transport discards. Stopped by the PIDs it started (Postfix's master from its pid
/// file, Dovecot as a child). The same set-up as pcaps/record/record-smtp.py.
/// </summary>
public sealed class PostfixServer : IDisposable
{
    public const string Host = "127.0.0.1";
    private readonly string _dir;
    private readonly ExternalProcess _dovecot;
    private int _masterPid;

    public PostfixServer(int port)
    {
        Port = port;
        _dir = Directory.CreateTempSubdirectory("sensor-postfix-").FullName;
        File.SetUnixFileMode(_dir, (UnixFileMode)0b111_101_101);
        foreach (var d in new[] { "run", "state", "pf", "queue", "data" }) Directory.CreateDirectory(Path.Combine(_dir, d));
        Run("chown", "postfix", Path.Combine(_dir, "data"));
        var users = Path.Combine(_dir, "users");
        File.WriteAllText(users, "alice:{PLAIN}wonderland::::::\nbob:{PLAIN}builder::::::\n");
        File.SetUnixFileMode(users, (UnixFileMode)0b110_100_100);
        var socket = Path.Combine(_dir, "auth-postfix");
        File.WriteAllText(Path.Combine(_dir, "dovecot.conf"), $$"""
            instance_name = sensor-smtp-{{port}}
            base_dir = {{_dir}}/run
            state_dir = {{_dir}}/state
            log_path = {{_dir}}/dovecot.log
            protocols =
            listen = {{Host}}
            default_internal_user = dovecot
            default_login_user = dovenull
            disable_plaintext_auth = no
            auth_mechanisms = plain login cram-md5
            ssl = no
            passdb {
              driver = passwd-file
              args = scheme=PLAIN username_format=%u {{users}}
            }
            userdb {
              driver = static
              args = uid=nobody gid=nogroup home=/nonexistent
            }
            service auth {
              unix_listener {{socket}} {
                mode = 0666
              }
            }
            """);
        _dovecot = new ExternalProcess("dovecot", ["-F", "-c", Path.Combine(_dir, "dovecot.conf")]);
        WaitFor(() => File.Exists(socket), "dovecot auth socket");
        File.WriteAllText(Path.Combine(_dir, "pf", "main.cf"), $"""
            compatibility_level = 3.6
            queue_directory = {_dir}/queue
            data_directory = {_dir}/data
            command_directory = /usr/sbin
            daemon_directory = /usr/lib/postfix/sbin
            mail_owner = postfix
            setgid_group = postdrop
            myhostname = mail.sensor.test
            mydestination =
            inet_interfaces = {Host}
            inet_protocols = ipv4
            mynetworks = 127.0.0.0/8
            relayhost =
            default_transport = discard:
            local_transport = discard:
            relay_transport = discard:
            alias_maps =
            alias_database =
            smtpd_banner = $myhostname ESMTP Postfix
            smtpd_sasl_auth_enable = yes
            smtpd_sasl_type = dovecot
            smtpd_sasl_path = {socket}
            broken_sasl_auth_clients = yes
            smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
            maillog_file = {_dir}/postfix.log
            maillog_file_prefixes = {_dir}
            """);
        File.WriteAllText(Path.Combine(_dir, "pf", "master.cf"), $"""
            {port} inet n - n - - smtpd
            cleanup unix n - n - 0 cleanup
            qmgr unix n - n 300 1 qmgr
            rewrite unix - - n - - trivial-rewrite
            bounce unix - - n - 0 bounce
            defer unix - - n - 0 bounce
            trace unix - - n - 0 bounce
            verify unix - - n - 1 verify
            proxymap unix - - n - - proxymap
            error unix - - n - - error
            retry unix - - n - - error
            discard unix - - n - - discard
            anvil unix - - n - 1 anvil
            scache unix - - n - 1 scache
            postlog unix-dgram n - n - 1 postlogd
            """);
        try
        {
            Run("postfix", "-c", Path.Combine(_dir, "pf"), "start");
            var pidFile = Path.Combine(_dir, "queue", "pid", "master.pid");
            WaitFor(() => File.Exists(pidFile) && Listening(port), "postfix smtpd");
            // master holds a lock on its pid file that .NET's own file sharing check would trip on.
            _masterPid = int.Parse(Run("cat", pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public int Port { get; }

    private void WaitFor(Func<bool> ready, string what)
    {
        var until = DateTime.UtcNow.AddSeconds(20);
        while (!ready())
        {
            if (_dovecot.HasExited || DateTime.UtcNow > until)
                throw new InvalidOperationException($"{what} did not start: {_dovecot.StdErr} {SafeRead("dovecot.log")} {SafeRead("postfix.log")}");
            Thread.Sleep(50);
        }
    }

    private string SafeRead(string name)
    {
        var path = Path.Combine(_dir, name);
        return File.Exists(path) ? File.ReadAllText(path) : "";
    }

    private static bool Listening(int port)
    {
        try
        {
            using var c = new TcpClient();
            c.Connect(Host, port);
            return true;
        }
        catch (SocketException) { return false; }
    }

    private static string Run(string file, params string[] args)
    {
        var (code, stdout, stderr) = ExternalProcess.RunToEnd(file, args, TimeSpan.FromSeconds(60));
        if (code != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({code}): {stderr}");
        return stdout;
    }

    public void Dispose()
    {
        if (_masterPid > 0)
        {
            // Postfix's master stops its children when it gets SIGTERM.
            ExternalProcess.RunToEnd("kill", ["-TERM", _masterPid.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(10));
            var until = DateTime.UtcNow.AddSeconds(10);
            while (Listening(Port) && DateTime.UtcNow < until) Thread.Sleep(50);
            _masterPid = 0;
        }
        _dovecot.Dispose();
        try { Directory.Delete(_dir, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
