/*
 * profdump: print MIT's parse of one profile file in the format of
 * profile_flush_to_buffer, or "error: MESSAGE". Used by
 * TestProfileMatchesMIT to compare our parser with Debian's libkrb5.
 * Build: cc -o profdump profdump.c -l:libkrb5.so.3 -l:libcom_err.so.2
 */
#include <stdio.h>

typedef long errcode_t;
typedef void *profile_t;
errcode_t profile_init(const char **files, profile_t *ret);
errcode_t profile_flush_to_buffer(profile_t profile, char **buf);
const char *error_message(errcode_t code);

int main(int argc, char **argv)
{
    const char *files[2];
    profile_t profile;
    errcode_t ret;
    char *buf;

    if (argc != 2) {
        fprintf(stderr, "usage: profdump FILE\n");
        return 2;
    }
    files[0] = argv[1];
    files[1] = NULL;
    ret = profile_init(files, &profile);
    if (ret == 0)
        ret = profile_flush_to_buffer(profile, &buf);
    if (ret) {
        printf("error: %s\n", error_message(ret));
        return 0;
    }
    fputs(buf, stdout);
    return 0;
}
