using System.Net.Sockets;

namespace Sensor.Integration.Tests.Live;

/// <summary>
/// A real Dovecot (IMAP and POP3, STARTTLS with a self-signed certificate) on 127.0.0.1, started
/// by the test in a private directory and stopped by its PID. Users: alice/wonderland, bob/builder.
/// Another address can be given: one on a veth whose far end is in a namespace the test made.
/// </summary>
public sealed class DovecotServer : IDisposable
{
    public const string Host = "127.0.0.1";
    private readonly string _dir;
    private readonly ExternalProcess _process;

    public DovecotServer(int imapPort, int pop3Port, string address = Host)
    {
        Address = address;
        ImapPort = imapPort;
        Pop3Port = pop3Port;
        _dir = Directory.CreateTempSubdirectory("sensor-dovecot-").FullName;
        File.SetUnixFileMode(_dir, (UnixFileMode)0b111_101_101);
        Run("id", "dovenull"); // created by dovecot-core; fail early with a clear message if missing
        var (uid, gid) = (Run("id", "-u", "nobody").Trim(), Run("id", "-g", "nobody").Trim());
        var home = Path.Combine(_dir, "home");
        Directory.CreateDirectory(Path.Combine(home, "alice", "Maildir"));
        Directory.CreateDirectory(Path.Combine(home, "bob", "Maildir"));
        Run("chown", "-R", $"{uid}:{gid}", home);
        File.WriteAllText(Path.Combine(_dir, "users"),
            $"alice:{{PLAIN}}wonderland:{uid}:{gid}::{home}/alice\nbob:{{PLAIN}}builder:{uid}:{gid}::{home}/bob\n");
        Run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
            "-keyout", Path.Combine(_dir, "key.pem"), "-out", Path.Combine(_dir, "cert.pem"));
        var dh = File.Exists("/usr/share/dovecot/dh.pem") ? "ssl_dh = </usr/share/dovecot/dh.pem" : "";
        var conf = Path.Combine(_dir, "dovecot.conf");
        File.WriteAllText(conf, $$"""
            instance_name = sensor-test-{{imapPort}}
            base_dir = {{_dir}}/run
            state_dir = {{_dir}}/state
            log_path = {{_dir}}/dovecot.log
            protocols = imap pop3
            listen = {{address}}
            default_internal_user = dovecot
            default_login_user = dovenull
            first_valid_uid = 1
            disable_plaintext_auth = no
            auth_mechanisms = plain login cram-md5
            mail_location = maildir:~/Maildir
            ssl = yes
            ssl_cert = <{{_dir}}/cert.pem
            ssl_key = <{{_dir}}/key.pem
            {{dh}}
            passdb {
              driver = passwd-file
              args = scheme=PLAIN username_format=%u {{_dir}}/users
            }
            userdb {
              driver = passwd-file
              args = username_format=%u {{_dir}}/users
            }
            service imap-login {
              inet_listener imap {
                address = {{address}}
                port = {{imapPort}}
              }
              inet_listener imaps {
                port = 0
              }
            }
            service pop3-login {
              inet_listener pop3 {
                address = {{address}}
                port = {{pop3Port}}
              }
              inet_listener pop3s {
                port = 0
              }
            }
            """);
        _process = new ExternalProcess("dovecot", ["-F", "-c", conf]);
        var until = DateTime.UtcNow.AddSeconds(15);
        while (!(Listening(address, imapPort) && Listening(address, pop3Port)))
        {
            if (_process.HasExited || DateTime.UtcNow > until)
                throw new InvalidOperationException("dovecot did not start: " + _process.StdErr + SafeRead(Path.Combine(_dir, "dovecot.log")));
            Thread.Sleep(50);
        }
    }

    public string Address { get; }
    public int ImapPort { get; }
    public int Pop3Port { get; }

    private static bool Listening(string address, int port)
    {
        try
        {
            using var c = new TcpClient();
            c.Connect(address, port);
            return true;
        }
        catch (SocketException) { return false; }
    }

    private static string SafeRead(string path) => File.Exists(path) ? File.ReadAllText(path) : "";

    private static string Run(string file, params string[] args)
    {
        var (code, stdout, stderr) = ExternalProcess.RunToEnd(file, args, TimeSpan.FromSeconds(60));
        if (code != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({code}): {stderr}");
        return stdout;
    }

    public void Dispose()
    {
        _process.Dispose();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}
