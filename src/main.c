#include <stdio.h>
int main(void) { puts("twinbox"); return 0; }
