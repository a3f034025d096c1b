/*
 * Start-up of the Native AOT binary: a standard input the sensor was started without (`sensor read -
 * <&-`) becomes /dev/null before the .NET runtime starts.
 *
 * Why: descriptor 0 is then free, and the runtime's first pipe of its own takes it; `read -` would read
 * that pipe, which nothing ever writes or closes, and wait for ever. With /dev/null there it reads an
 * empty input and says so (exit 1), as for `< /dev/null`. Standard output and error are left alone: a
 * closed one must stay a write error (exit 3), never become a quiet /dev/null that loses findings.
 * A constructor runs before main, so before the runtime.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

__attribute__((constructor)) static void closed_stdin(void)
{
    if (fcntl(0, F_GETFD) == -1 && errno == EBADF) {
        int fd = open("/dev/null", O_RDONLY); /* the lowest free descriptor: 0 */
        if (fd > 0)
            close(fd); /* 0 was taken meanwhile: leave things as they were */
    }
}
