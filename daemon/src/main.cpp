#include <cstdio>
int main() {
  std::fputs("schakeld: not built yet\n", stderr);
  return 1;
}
